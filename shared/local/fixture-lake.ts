import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Fixture } from '../fixtures/parse-fixture.ts';
import type { FixtureLake, FixtureLakes } from '../fixtures/run-fixture.ts';
import { DuckDbEngine } from './duckdb-engine.ts';

const jsonLines = (rows: readonly unknown[]) => `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;

/**
 * Writes a fixture's rows as a lake folder in the layout of SPEC section 1 (JSONL in `dt=`
 * partitions by the UTC date of ts, identities beside them) and reads it with DuckDB.
 */
export async function writeFixtureLake(dir: string, fixture: Fixture): Promise<void> {
  const byDay = new Map<string, Fixture['events'][number][]>();
  for (const event of fixture.events) {
    const day = new Date(event.ts).toISOString().slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), event]);
  }
  for (const [day, rows] of byDay) {
    await mkdir(join(dir, 'events', `dt=${day}`), { recursive: true });
    await writeFile(join(dir, 'events', `dt=${day}`, 'fixture.jsonl'), jsonLines(rows));
  }
  if (fixture.identities.length > 0) {
    await mkdir(join(dir, 'identities'), { recursive: true });
    await writeFile(join(dir, 'identities', 'fixture.jsonl'), jsonLines(fixture.identities));
  }
}

/** Fixture lakes in temporary folders, all read through one DuckDB connection; each is removed when closed. */
export function duckdbFixtureLakes(connection: DuckDBConnection, engineName: string): FixtureLakes {
  return async (fixture): Promise<FixtureLake> => {
    const dir = await mkdtemp(join(tmpdir(), 'cohorts-fixture-'));
    try {
      await writeFixtureLake(dir, fixture);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      engine: new DuckDbEngine(connection, dir, engineName),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  };
}
