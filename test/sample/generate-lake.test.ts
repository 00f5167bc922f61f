import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { generateSampleLake, type SampleLakeSummary } from '../../shared/sample/generate-lake.ts';

const END = new Date('2024-03-15T10:00:00Z');
const DAYS = 30;
const PEOPLE = 300;

let root: string;
let db: DuckDBConnection;
let summary: SampleLakeSummary;
const progress: [number, number][] = [];

const lake = (name: string) => join(root, name);
const eventsGlob = (name: string) => join(lake(name), 'events', '*', '*.parquet');

async function rows(sql: string, params: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const reader = await db.runAndReadAll(sql, params);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sample-lake-'));
  const options = { people: PEOPLE, days: DAYS, end: END };
  summary = await generateSampleLake({
    ...options,
    dir: lake('a'),
    seed: 7,
    onProgress: (done, total) => progress.push([done, total]),
  });
  await generateSampleLake({ ...options, dir: lake('same'), seed: 7 });
  await generateSampleLake({ ...options, dir: lake('other'), seed: 8 });
  db = await openDuckDb();
});

afterAll(async () => {
  db?.closeSync();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('generateSampleLake', () => {
  it('writes the SPEC layout: dt=YYYY-MM-DD folders of parquet files and an identity map', async () => {
    const folders = await readdir(join(lake('a'), 'events'));
    expect(folders.length).toBeGreaterThanOrEqual(DAYS);
    let files = 0;
    for (const folder of folders) {
      expect(folder).toMatch(/^dt=\d{4}-\d{2}-\d{2}$/);
      const inside = await readdir(join(lake('a'), 'events', folder));
      expect(inside.length).toBeGreaterThan(0);
      for (const file of inside) expect(file).toMatch(/\.parquet$/);
      files += inside.length;
    }
    expect((await stat(join(lake('a'), 'identities', 'identities.parquet'))).isFile()).toBe(true);
    expect(summary.files).toBe(files + 1);
    expect(summary.people).toBe(PEOPLE);
    expect(progress.at(-1)).toEqual([progress.length, progress.length]);
  });

  it('writes the event columns with their types, and no dt column inside the files', async () => {
    const columns = await rows('DESCRIBE SELECT * FROM read_parquet($glob, hive_partitioning = false)', { glob: eventsGlob('a') });
    expect(columns.map((c) => [c.column_name, c.column_type])).toEqual([
      ['event_id', 'VARCHAR'],
      ['source', 'VARCHAR'],
      ['user_id', 'VARCHAR'],
      ['event_name', 'VARCHAR'],
      ['ts', 'TIMESTAMP'],
      ['properties', 'VARCHAR'],
      ['value', 'DOUBLE'],
    ]);
  });

  it('puts every event in the folder of its UTC date, inside the window (but a few late ones)', async () => {
    const [check] = await rows(
      `SELECT count(*)::INTEGER AS events,
         count(*) FILTER (WHERE CAST(dt AS VARCHAR) <> strftime(ts, '%Y-%m-%d'))::INTEGER AS misplaced,
         count(*) FILTER (WHERE ts >= $end)::INTEGER AS late,
         count(*) FILTER (WHERE ts >= CAST($end AS TIMESTAMP) + INTERVAL 1 HOUR)::INTEGER AS too_late,
         count(*) FILTER (WHERE ts < CAST($end AS TIMESTAMP) - INTERVAL ${DAYS} DAY)::INTEGER AS too_early,
         count(*) FILTER (WHERE properties IS NOT NULL AND NOT json_valid(properties))::INTEGER AS bad_json
       FROM read_parquet($glob, hive_partitioning = true)`,
      { glob: eventsGlob('a'), end: END.toISOString().replace('Z', '') },
    );
    expect(check).toMatchObject({ events: summary.events, misplaced: 0, too_late: 0, too_early: 0, bad_json: 0 });
    expect(check?.late as number).toBeLessThan(20);
  });

  it('has the four sources with their events, and most people active', async () => {
    const sources = await rows(
      `SELECT source, list(DISTINCT event_name ORDER BY event_name) AS names
       FROM read_parquet($glob) WHERE event_name IS NOT NULL GROUP BY source ORDER BY source`,
      { glob: eventsGlob('a') },
    );
    expect(sources).toEqual([
      { source: 'billing', names: ['invoice_paid', 'payment_failed', 'subscription_changed', 'trial_started'] },
      { source: 'crm', names: ['demo_booked', 'lead_created', 'profile_updated'] },
      {
        source: 'product',
        names: ['export_created', 'feature_used', 'invite_sent', 'login', 'search_performed', 'signup'],
      },
      { source: 'support', names: ['ticket_closed', 'ticket_opened'] },
    ]);
    const [ids] = await rows(
      `SELECT count(DISTINCT user_id) FILTER (WHERE source = 'product')::INTEGER AS people,
         bool_and(regexp_full_match(user_id, 'u_[0-9]{6}')) FILTER (WHERE source = 'product' AND user_id <> '') AS product,
         bool_and(regexp_full_match(user_id, 'cus_[a-z0-9]{6}')) FILTER (WHERE source = 'billing' AND user_id <> '') AS billing,
         bool_and(user_id LIKE '%@%') FILTER (WHERE source IN ('crm', 'support') AND user_id <> '') AS emails
       FROM read_parquet($glob)`,
      { glob: eventsGlob('a') },
    );
    expect(ids).toMatchObject({ product: true, billing: true, emails: true });
    expect(ids?.people as number).toBeGreaterThan(PEOPLE * 0.8);
  });

  it('contains a little of what real lakes contain: duplicates and invalid rows', async () => {
    const [check] = await rows(
      `SELECT (count(*) - count(DISTINCT event_id))::INTEGER AS duplicates,
         count(*) FILTER (WHERE user_id = '' OR event_name IS NULL)::INTEGER AS invalid,
         count(*)::INTEGER AS events
       FROM read_parquet($glob)`,
      { glob: eventsGlob('a') },
    );
    const events = check?.events as number;
    expect(check?.duplicates as number).toBeGreaterThan(0);
    expect(check?.duplicates as number).toBeLessThan(events * 0.01);
    expect(check?.invalid as number).toBeGreaterThan(0);
    expect(check?.invalid as number).toBeLessThan(events * 0.01);
  });

  it('writes an identity map from crm, support and billing ids to product user ids', async () => {
    const identities = await rows(
      `SELECT source, count(*)::INTEGER AS n, count(*) FILTER (WHERE person_id NOT LIKE 'u\\_%' ESCAPE '\\')::INTEGER AS odd
       FROM read_parquet($file) GROUP BY source ORDER BY source`,
      { file: join(lake('a'), 'identities', 'identities.parquet') },
    );
    expect(identities.map((i) => i.source)).toEqual(['billing', 'crm', 'support']);
    expect(identities.every((i) => i.odd === 0)).toBe(true);
    expect(identities.reduce((sum, i) => sum + (i.n as number), 0)).toBe(summary.identities);
  });

  it('gives the same rows for the same seed and other rows for another seed', async () => {
    const difference = async (other: string) => {
      const [result] = await rows(
        `SELECT count(*)::INTEGER AS n FROM (
           (SELECT * FROM read_parquet($a) EXCEPT ALL SELECT * FROM read_parquet($b))
           UNION ALL
           (SELECT * FROM read_parquet($b) EXCEPT ALL SELECT * FROM read_parquet($a)))`,
        { a: eventsGlob('a'), b: eventsGlob(other) },
      );
      return result?.n as number;
    };
    expect(await difference('same')).toBe(0);
    expect(await difference('other')).toBeGreaterThan(summary.events / 2);
  });

  it('refuses to write into a lake whose events folder is not empty', async () => {
    await expect(generateSampleLake({ dir: lake('a'), people: 10, days: 2, end: END, seed: 1 })).rejects.toThrow(/events.*not empty/);
    expect((await readdir(join(lake('a'), 'events'))).length).toBeGreaterThanOrEqual(DAYS);
  });
});
