import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitLines } from '../../shared/ingest/event-lines.ts';
import { ingestEvents } from '../../shared/ingest/ingest-events.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';

let duckdb: DuckDBConnection;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ingest-'));
  duckdb = await openDuckDb({ threads: 1 });
});

afterAll(async () => {
  duckdb?.closeSync();
  await rm(root, { recursive: true, force: true });
});

const event = (id: string, ts: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ event_id: id, source: 'product', user_id: `u${id}`, event_name: 'login', ts, ...extra });

/** Every file under a folder, relative, sorted. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(folder.length + 1))
    .sort();
}

/** The valid events the lake reader reads from a lake folder: event_id and dt. */
async function validEvents(lake: string): Promise<string[]> {
  const view = await new DuckDbEngine(duckdb, lake).lake();
  const reader = await duckdb.runAndReadAll(
    `SELECT event_id || ' ' || dt FROM ${view.relations.events} AS e WHERE event_id <> '' AND source <> '' AND trim(user_id) <> '' AND event_name <> '' AND ts IS NOT NULL ORDER BY 1`,
  );
  return reader.getRows().map((row) => String(row[0]));
}

const INPUT = [
  event('1', '2026-11-24T23:30:00-02:00'), // the UTC day after its local day
  '',
  event('2', '2026-11-24T10:00:00.123456Z', { value: 3, properties: { plan: 'pro' } }),
  'not json',
  event('3', '2026-11-24T24:00:00Z'), // no hour 24 (Athena refuses it; DuckDB alone would read the next day)
  event('', '2026-11-24T10:00:00Z'),
  event('5', '2026-02-30T10:00:00Z'), // no such day
  event('6', '2026-11-25T00:30:00+18:01'), // beyond +-18:00
  event('7', 1764000000), // a number, not the SPEC's text
  '{"event_id":"8","source":"product","user_id":"u8","event_name":"login","ts":"2026-11-24T10:00:00Z",}', // trailing comma
  event('9', '2026-11-25T00:30:00+01:00'), // the UTC day before its local day
].join('\r\n');

describe('ingesting JSON Lines events into a lake folder', () => {
  it('appends each valid line, as written, to the partition of its UTC day and refuses the others with their number and reason', async () => {
    // Prepare
    const lake = join(root, 'mixed');
    // Act
    const result = await ingestEvents(duckdb, {
      lakeDir: lake,
      lines: splitLines(INPUT),
      input: 'in.jsonl',
      now: new Date('2026-12-05T06:00:00Z'),
    });
    // Assess
    expect(result.written.map(({ dt, events }) => [dt, events])).toEqual([
      ['2026-11-24', 2],
      ['2026-11-25', 1],
    ]);
    const lines = INPUT.split('\r\n');
    expect(await readFile(join(lake, result.written[0]?.key as string), 'utf8')).toBe(`${lines[2]}\n${lines[10]}\n`);
    expect(await readFile(join(lake, result.written[1]?.key as string), 'utf8')).toBe(`${lines[0]}\n`);
    expect(result.refused).toEqual([
      { line: 4, reason: 'not one JSON object with the event columns (SPEC section 1)' },
      { line: 5, reason: 'ts missing or not YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)' },
      { line: 6, reason: 'event_id missing or empty' },
      { line: 7, reason: 'ts missing or not YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)' },
      { line: 8, reason: 'ts missing or not YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)' },
      { line: 9, reason: 'ts missing or not YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)' },
      { line: 10, reason: 'not one JSON object with the event columns (SPEC section 1)' },
    ]);
    // The refused lines are kept, dated by the day of the ingestion, outside events/.
    expect(result.refusedKey).toMatch(/^events-errors\/ingest-refused\/dt=2026-12-05\/ingest-20261205T060000000Z-[0-9a-f]{8}\.jsonl$/);
    const kept = splitLines(await readFile(join(lake, result.refusedKey as string), 'utf8')).map((l) => JSON.parse(l));
    expect(kept.map((r) => [r.input, r.line, r.text])).toEqual(result.refused.map(({ line }) => ['in.jsonl', line, lines[line - 1]]));
    // Nothing half-written is left: only the files named.
    expect(await filesUnder(lake)).toEqual([...result.written.map((w) => w.key), result.refusedKey].sort());
  });

  it('keeps exactly the lines the lake reader reads as valid events, each in the dt of its ts', async () => {
    // Prepare: the same input dropped into the lake as it is, and ingested into another
    const raw = join(root, 'raw');
    await mkdir(join(raw, 'events', 'dt=2026-11-24'), { recursive: true });
    await writeFile(join(raw, 'events', 'dt=2026-11-24', 'in.jsonl'), INPUT);
    const ingested = join(root, 'ingested');
    // Act
    await ingestEvents(duckdb, { lakeDir: ingested, lines: splitLines(INPUT), input: 'in.jsonl', now: new Date('2026-12-05T06:00:00Z') });
    // Assess: the same valid events, now in the partition of their UTC day
    const rawIds = (await validEvents(raw)).map((row) => row.split(' ')[0]);
    const ingestedRows = await validEvents(ingested);
    expect(ingestedRows.map((row) => row.split(' ')[0])).toEqual(rawIds);
    expect(ingestedRows).toEqual(['1 2026-11-25', '2 2026-11-24', '9 2026-11-24']);
  });

  it('lets the local engine list the refused files with their day, and none for a lake without them', async () => {
    // Prepare
    const lake = join(root, 'refused');
    await ingestEvents(duckdb, {
      lakeDir: lake,
      lines: ['oops', event('1', '2026-11-24T10:00:00Z')],
      input: '-',
      now: new Date('2026-12-05T06:00:00Z'),
    });
    await ingestEvents(duckdb, { lakeDir: lake, lines: ['{}'], input: '-', now: new Date('2026-12-06T06:00:00Z') });
    // Act
    const view = await new DuckDbEngine(duckdb, lake).lake();
    // Assess
    expect(view.refused?.location).toBe(join(lake, 'events-errors/'));
    expect([...(view.refused?.days ?? [])].sort()).toEqual(['2026-12-05', '2026-12-06']);
    const clean = join(root, 'clean');
    await ingestEvents(duckdb, { lakeDir: clean, lines: [event('1', '2026-11-24T10:00:00Z')], input: '-', now: new Date() });
    expect((await new DuckDbEngine(duckdb, clean).lake()).refused).toBeUndefined();
  });
});
