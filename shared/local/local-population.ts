import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { stringLiteral } from '../compiler/sql-text.ts';
import { addedInputs, sameInputs, type InputFile } from '../tiles/fingerprint.ts';
import { populationAddedSql, populationIndexSql } from '../tiles/population-sql.ts';
import type { PopulationRelations } from '../tiles/tile-store.ts';
import { fileWriteError } from './file-error.ts';
import { readJson, writeJsonAtomically } from './local-tiles.ts';
import { TILE_PARQUET_OPTIONS } from './tile-parquet.ts';

let copyCounter = 0;

/** What a kept file was made from: input files as they were (path, size, modification time). */
interface Made {
  readonly inputs: readonly InputFile[];
}

/** Path, size and modification time of files (sorted by path); a missing file is left out. */
export async function inputsOf(files: readonly { readonly path: string; readonly file: string }[]): Promise<InputFile[]> {
  const found = await Promise.all(
    files.map(async ({ path, file }) => {
      const info = await stat(file).catch(() => undefined);
      return info === undefined ? [] : [{ path, size: info.size, version: info.mtime.toISOString() }];
    }),
  );
  return found.flat().sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The population index of the local tiles (issue 15): `<state>/tiles/population.parquet`
 * (population-sql.ts) with `population.json`, the tile files it was built from (removed before the
 * index is rewritten, written after, so the index never passes for what it is not). When tile days
 * were only added, the index gains their keys; any other change (a day rebuilt, screened, folded
 * into the rollup) builds it again from the tiles. It holds only what the tiles hold: erasure
 * ({@link drop}) removes it, and the next refresh builds it from the screened tiles. (The identity
 * map is not kept beside it: it names people, and erasure leaves no file under tiles/ naming one.)
 */
export class LocalPopulation {
  private readonly root: string;

  constructor(
    private readonly connection: DuckDBConnection,
    stateDir: string,
  ) {
    this.root = join(stateDir, 'tiles');
  }

  private file(name: string): string {
    return join(this.root, name);
  }

  /** A relation over the index of the tile files of `days` (`tilesOf`: their tile rows; `fileOf`: a day's file). */
  async relations(
    days: readonly string[],
    tilesOf: (days: readonly string[]) => string,
    fileOf: (day: string) => string,
  ): Promise<PopulationRelations> {
    await this.index(days, tilesOf, fileOf);
    return { population: this.relation('population.parquet') };
  }

  /** Removes the index (erasure): the next refresh builds it again from the screened tiles. */
  async drop(): Promise<void> {
    for (const name of ['population.json', 'population.parquet']) await rm(this.file(name), { force: true });
  }

  private relation(name: string): string {
    return `read_parquet(${stringLiteral(this.file(name))}, hive_partitioning = false)`;
  }

  private async index(
    days: readonly string[],
    tilesOf: (days: readonly string[]) => string,
    fileOf: (day: string) => string,
  ): Promise<void> {
    const current = await inputsOf(days.map((day) => ({ path: day, file: fileOf(day) })));
    const made = await readJson<Made>(this.file('population.json'));
    if (made !== undefined && sameInputs(made.inputs, current)) return;
    const added = made === undefined ? undefined : addedInputs(made.inputs, current);
    let sql = populationIndexSql(tilesOf(current.map((f) => f.path)));
    if (added !== undefined && added.length > 0) {
      // Stored first: the kept index is read before its file is replaced.
      sql = populationAddedSql(this.relation('population.parquet'), tilesOf(added.map((f) => f.path)));
    }
    await this.write('population', sql, { inputs: current });
  }

  /** Writes `<name>.parquet` from a query (under a temporary name, then renamed), described by `<name>.json` after. */
  private async write(name: string, sql: string, made: Made): Promise<void> {
    const tmp = this.file(`.tmp-${name}-${process.pid}-${++copyCounter}.parquet`);
    try {
      await this.connection.run(`COPY (${sql}) TO ${stringLiteral(tmp)} (${TILE_PARQUET_OPTIONS})`);
      await rm(this.file(`${name}.json`), { force: true });
      await rename(tmp, this.file(`${name}.parquet`));
      await writeJsonAtomically(this.file(`${name}.json`), made);
    } catch (error) {
      throw fileWriteError(error, this.file(`${name}.parquet`), this.root);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
