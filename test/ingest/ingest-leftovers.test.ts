import { link, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAKE_LEFTOVER_AGE_MS, removeLakeLeftovers } from '../../shared/ingest/ingest-leftovers.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ingest-leftovers-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const NOW = new Date('2026-12-08T00:00:00Z');
const UUID = (n: number) => `${String(n).repeat(8)}-1111-4111-8111-${String(n).repeat(12)}`;

/** Writes a file under the lake and sets its modification time `ageMs` before NOW. */
async function put(lake: string, key: string, body: string, ageMs: number): Promise<void> {
  const path = join(lake, key);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, body);
  const at = new Date(NOW.getTime() - ageMs);
  await utimes(path, at, at);
}

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(folder.length + 1))
    .sort();
}

describe('removing what a killed ingest left in the lake', () => {
  it('removes the .tmp-<uuid> files of events/ and events-errors/ unchanged for over an hour, and nothing a reader or a live writer needs', async () => {
    // Prepare: a killed ingest's temporary files (one hard-linked to its data file, as a kill
    // between link and unlink leaves it), a live writer's, and files that are no blob-store temporary
    const lake = join(root, 'lake');
    const old = LAKE_LEFTOVER_AGE_MS + 60_000;
    await put(lake, 'events/dt=2026-12-01/ingest-a.jsonl', '{"event_id":"1"}\n', old);
    await link(join(lake, 'events/dt=2026-12-01/ingest-a.jsonl'), join(lake, `events/dt=2026-12-01/.tmp-${UUID(1)}`));
    await put(lake, `events/dt=2026-12-02/.tmp-${UUID(2)}`, '{"event_id":"2"}\n', old);
    await put(lake, `events-errors/ingest-refused/dt=2026-12-07/.tmp-${UUID(3)}`, '{"line":1}\n', old);
    await put(lake, `events/dt=2026-12-03/.tmp-${UUID(4)}`, '{"event_id":"4"}\n', LAKE_LEFTOVER_AGE_MS - 60_000);
    await put(lake, 'events/dt=2026-12-03/.tmp-tiles.parquet', 'x', old);
    await put(lake, `identities/.tmp-${UUID(5)}`, 'x', old);

    // Act
    const removed = await removeLakeLeftovers(lake, NOW);

    // Assess
    expect(removed).toEqual([
      `events-errors/ingest-refused/dt=2026-12-07/.tmp-${UUID(3)}`,
      `events/dt=2026-12-01/.tmp-${UUID(1)}`,
      `events/dt=2026-12-02/.tmp-${UUID(2)}`,
    ]);
    expect(await filesUnder(lake)).toEqual([
      'events/dt=2026-12-01/ingest-a.jsonl',
      `events/dt=2026-12-03/.tmp-${UUID(4)}`,
      'events/dt=2026-12-03/.tmp-tiles.parquet',
      `identities/.tmp-${UUID(5)}`,
    ]);
    expect(await readFile(join(lake, 'events/dt=2026-12-01/ingest-a.jsonl'), 'utf8')).toBe('{"event_id":"1"}\n');
  });

  it('finds nothing in a lake without events/ or events-errors/', async () => {
    expect(await removeLakeLeftovers(join(root, 'none'), NOW)).toEqual([]);
  });
});
