import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { GZIP_CHECKED_KEY, GzipCheck } from '../../shared/local/gzip-check.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';

let duckdb: DuckDBConnection;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gzip-check-'));
  duckdb = await openDuckDb({ threads: 1 });
});

afterAll(async () => {
  duckdb?.closeSync();
  await rm(root, { recursive: true, force: true });
});

const lines = (from: number, count: number) =>
  Array.from(
    { length: count },
    (_, i) => `{"event_id":"e${from + i}","source":"p","user_id":"u${from + i}","event_name":"e","ts":"2026-05-20T12:00:00Z"}\n`,
  ).join('');

/** A lake whose one events file, dt=2026-05-20/e.jsonl.gz, holds `bytes`; its path. */
async function gzLake(name: string, bytes: Uint8Array): Promise<{ lake: string; file: string }> {
  const lake = join(root, name);
  const file = join(lake, 'events/dt=2026-05-20/e.jsonl.gz');
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, bytes);
  return { lake, file };
}

async function countEvents(engine: DuckDbEngine): Promise<number> {
  const view = await engine.lake();
  return Number((await engine.rows(`SELECT count(*) AS n FROM ${view.relations.events} AS e`))[0]?.n);
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => (e as Error).message,
  );

/** Two gzip members of 100 lines each: a file cut after the first is a whole gzip stream to DuckDB's reader. */
const twoMembers = () => Buffer.concat([gzipSync(lines(0, 100)), gzipSync(lines(100, 100))]);

describe('the gzip files of a local lake are read whole or not at all', () => {
  it('reads a whole file of two gzip members, every line', async () => {
    const { lake } = await gzLake('whole', twoMembers());
    expect(await countEvents(new DuckDbEngine(duckdb, lake))).toBe(200);
  });

  it('stops at the listing, naming a file cut short, where DuckDB read the lines before the cut', async () => {
    const bytes = twoMembers();
    const { lake, file } = await gzLake('cut', bytes.subarray(0, bytes.length - 40));
    expect(await failure(new DuckDbEngine(duckdb, lake).lake())).toBe(
      `cannot read ${file}: its gzip stream is cut short (the file ends inside it): replace it with a whole copy, or remove it`,
    );
  });

  it('names a file whose stream is damaged (its checksum disagrees), which DuckDB read without a word', async () => {
    const bytes = Buffer.from(gzipSync(lines(0, 50)));
    bytes[bytes.length - 6] = (bytes[bytes.length - 6] as number) ^ 1; // the CRC-32 of the member's data
    const { lake, file } = await gzLake('crc', bytes);
    expect(await failure(new DuckDbEngine(duckdb, lake).lake())).toBe(
      `cannot read ${file}: its gzip stream is damaged (incorrect data check): replace it with a whole copy, or remove it`,
    );
  });

  it('names a .gz file that is not gzip at the listing, as the reader did', async () => {
    const { lake, file } = await gzLake('plain', new TextEncoder().encode(lines(0, 3)));
    expect(await failure(new DuckDbEngine(duckdb, lake).lake())).toBe(
      `cannot read ${file}: not gzip-compressed, though its name ends in .gz`,
    );
  });

  it('remembers the files found whole in the state folder, and reads a file again once it changed', async () => {
    const { lake, file } = await gzLake('remembered', twoMembers());
    const state = join(root, 'remembered-state');
    await mkdir(state);
    expect(await countEvents(new DuckDbEngine(duckdb, lake, 'duckdb', state))).toBe(200);
    const kept = JSON.parse(await readFile(join(state, GZIP_CHECKED_KEY), 'utf8')) as { files: Record<string, string> };
    expect(Object.keys(kept.files)).toEqual([file]);

    // What the state folder says was found whole is not read again: a file damaged since, whose
    // size and times the record still matches, passes (so the record is what spares the reading).
    const whole = twoMembers();
    const damaged = Buffer.from(whole);
    damaged[damaged.length - 6] = (damaged[damaged.length - 6] as number) ^ 1;
    await writeFile(file, damaged);
    const s = await stat(file);
    await writeFile(join(state, GZIP_CHECKED_KEY), JSON.stringify({ files: { [file]: `${s.size}:${s.mtimeMs}:${s.ctimeMs}` } }));
    await expect(new GzipCheck(state).verify([file])).resolves.toBeUndefined();

    await utimes(file, new Date('2026-05-21T00:00:00Z'), new Date('2026-05-21T00:00:00Z'));
    expect(await failure(new GzipCheck(state).verify([file]))).toMatch(/its gzip stream is damaged/);
    const after = JSON.parse(await readFile(join(state, GZIP_CHECKED_KEY), 'utf8')) as { files: Record<string, string> };
    expect(after.files).toEqual({});
  });

  it('never creates a state folder that does not exist', async () => {
    const { lake } = await gzLake('no-state', twoMembers());
    const state = join(root, 'no-such-state');
    expect(await countEvents(new DuckDbEngine(duckdb, lake, 'duckdb', state))).toBe(200);
    expect(
      await stat(state).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
  });
});
