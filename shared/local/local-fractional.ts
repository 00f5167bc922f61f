import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CarryUse } from '../tiles/carry-sql.ts';
import { sameVersion } from '../tiles/fingerprint.ts';
import { inputsOf } from './local-population.ts';
import { readJson, writeJsonAtomically } from './local-tiles.ts';

/** Per tile file (the day), as it was read: the sum measures with a fractional value that day (a tile row not integral). */
interface Flags {
  readonly days: Readonly<Record<string, { readonly size: number; readonly version: string; readonly measures: readonly string[] }>>;
}

/**
 * Which sum measures a tile day holds a fractional value of (issue 14), kept beside the carried
 * partials (`<state>/tiles/partials/fractional.json`, measure ids only) per tile file by size and
 * modification time, so a refresh reads only the tile files that changed or came. A sum use whose
 * whole days hold one is inexact (it reads raw) without the inexact-sums query, which then asks only
 * about the others (their partial days, contested copies and absolute totals): the same measures it
 * would name over all of them.
 */
export class LocalFractional {
  private readonly file: string;

  constructor(
    private readonly connection: DuckDBConnection,
    stateDir: string,
  ) {
    this.file = join(stateDir, 'tiles', 'partials', 'fractional.json');
  }

  /** The measures of `uses` whose tile days (of `days`; `tilesOf`: their rows, `fileOf`: a day's file) hold a fractional value, sorted. */
  async inexact(
    uses: readonly CarryUse[],
    days: readonly string[],
    tilesOf: (days: readonly string[]) => string,
    fileOf: (day: string) => string,
  ): Promise<string[]> {
    if (uses.length === 0) return [];
    const current = await inputsOf(days.map((day) => ({ path: day, file: fileOf(day) })));
    const stored = (await readJson<Flags>(this.file))?.days ?? {};
    const flags: Record<string, Flags['days'][string]> = {};
    const missing = current.filter((f) => {
      const kept = stored[f.path];
      if (kept === undefined || !sameVersion(kept, f)) return true;
      flags[f.path] = kept;
      return false;
    });
    if (missing.length > 0) {
      const reader = await this.connection.runAndReadAll(
        `SELECT DISTINCT t.day, t.measure FROM ${tilesOf(missing.map((f) => f.path))} AS t WHERE NOT t.integral`,
      );
      const found = reader.getRowObjects().map((row) => ({ day: String(row.day), measure: String(row.measure) }));
      for (const f of missing) {
        const measures = [...new Set(found.filter((row) => row.day === f.path).map((row) => row.measure))].sort();
        flags[f.path] = { size: f.size, version: f.version, measures };
      }
      await mkdir(dirname(this.file), { recursive: true });
      await writeJsonAtomically(this.file, { days: flags } satisfies Flags);
    }
    const held = Object.entries(flags);
    const inexact = uses.filter((u) => held.some(([day, f]) => day >= u.first && day < u.end && f.measures.includes(u.measure)));
    return [...new Set(inexact.map((u) => u.measure))].sort();
  }
}
