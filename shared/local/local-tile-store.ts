import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { QueryEngine } from '../ports.ts';
import type { TileReads, TileRefreshReport, TileRelations, TileStore } from '../tiles/tile-store.ts';
import type { TileMeasure } from '../tiles/measures.ts';
import { findLakeFiles } from './lake-files.ts';
import type { LocalTileStore } from './local-tiles.ts';

/** Size of a file, 0 when it does not exist (a day without tile, no contested copies yet). */
const sizeOf = (file: string): Promise<number> =>
  stat(file).then(
    (info) => info.size,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 0;
      throw error;
    },
  );

/** The tile store port over the state folder's tiles (LocalTileStore) and the lake folder DuckDB reads. */
export class LocalTiles implements TileStore {
  constructor(
    private readonly store: LocalTileStore,
    private readonly engine: QueryEngine,
    private readonly lakeDir: string,
  ) {}

  async refresh(request: { readonly measures: readonly TileMeasure[]; readonly days: readonly string[] }): Promise<TileRefreshReport> {
    const lake = await this.engine.lake();
    const statuses = await this.store.refresh(request.measures, request.days, lake.relations, await findLakeFiles(this.lakeDir));
    const built: string[] = [];
    const rebuilt: { day: string; reason: string }[] = [];
    let fresh = 0;
    for (const [day, status] of [...statuses].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (status.status === 'missing') built.push(day);
      else if (status.status === 'stale') rebuilt.push({ day, reason: status.reason });
      else fresh += 1;
    }
    return { built, rebuilt, fresh };
  }

  /** Drops a person's identity keys from the tiles (erasure; see LocalTileStore.forget). */
  forget(forms: readonly string[]): Promise<string[]> {
    return this.store.forget(forms, async () => (await this.engine.lake()).relations.identities);
  }

  relations(days: readonly string[]): TileRelations {
    return this.store.relations(days);
  }

  /** Sizes of the tile files of the days (with the contested copies) and of the lake files of the partitions. */
  async bytesOf(reads: TileReads): Promise<number> {
    const files = await findLakeFiles(this.lakeDir);
    const partitions = new Set(reads.partitions.map((d) => `dt=${d}`));
    const lakeFiles = [...files.events.parquet, ...files.events.jsonl].filter((f) => partitions.has(basename(dirname(f))));
    const sizes = await Promise.all([...this.store.files(reads.days), ...lakeFiles].map(sizeOf));
    return sizes.reduce((a, b) => a + b, 0);
  }
}
