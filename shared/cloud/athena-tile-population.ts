import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { TILE_DAYS_PREFIX, TILE_POPULATION_PREFIX, TILE_POPULATION_STATE_KEY } from '../bucket-layout.ts';
import { addedInputs, type InputFile, sameInputs } from '../tiles/fingerprint.ts';
import { POPULATION_COLUMNS, populationAddedSql, populationIndexSql } from '../tiles/population-sql.ts';
import type { PopulationRelations } from '../tiles/tile-store.ts';
import type { AthenaQueryRunner } from './athena-query.ts';
import { deleteObjects, deletePrefix, objectsUnder } from './s3-prefix.ts';
import type { S3BlobStore } from './s3-blob-store.ts';

/** What an {@link AthenaTilePopulation} runs on (the tile store's own). */
export interface AthenaTilePopulationPorts {
  readonly runner: AthenaQueryRunner;
  readonly s3: S3Client;
  /** The snapshots bucket (tiles under `tiles/`). */
  readonly bucket: string;
  /** The snapshots bucket as blobs: the index's state {@link TILE_POPULATION_STATE_KEY}. */
  readonly blobs: S3BlobStore;
  /** The qualified `tiles_population` table. */
  readonly table: string;
  /** The tile days a query over `days` reads as `day` (the rollup as ROLLUP_DAY), each with the stored `day=` partition holding it. */
  readonly visible: (days: readonly string[]) => readonly { readonly day: string; readonly stored: string }[];
  /** Tile rows (TILE_COLUMNS with `day`) of those days, each read as its visible day. */
  readonly tileRows: (days: readonly { readonly day: string; readonly stored: string }[]) => string;
  /** `INSERT INTO tiles_population ... SELECT ... FROM (<sql>)`. */
  readonly insert: (sql: string) => string;
}

/** What the index was built from: per visible tile day, its files (path: the day; version: a digest of its keys). */
interface Made {
  readonly inputs: readonly InputFile[];
}

/**
 * The population index of the Athena tiles (issue 15), the cloud twin of LocalPopulation: the Glue
 * table `tiles_population` (POPULATION_COLUMNS, Parquet under `tiles/population/`), one row per
 * identity key with its first and last tile day, and `tiles/population.json`, the tile files it
 * was made from (every INSERT writes files of new names, so a day's keys say whether its rows
 * changed; a kept day keeps them). When tile days were only added, one INSERT writes the index
 * of the old index and the added days' presence rows beside the old files, which are then
 * deleted; any other change (a day rebuilt, screened, folded into the rollup, expired) builds it
 * again from every day's presence rows. The state is deleted before any write and written after,
 * so a crash leaves no state and the next refresh builds it from scratch. Erasure drops it
 * ({@link drop}): it holds only what the tiles hold.
 */
export class AthenaTilePopulation {
  constructor(private readonly ports: AthenaTilePopulationPorts) {}

  /** Brings the index of the tiles of `days` up to date; returns a relation over it and what its INSERT scanned. */
  async relations(days: readonly string[]): Promise<PopulationRelations> {
    let bytesScanned = 0;
    const insert = async (sql: string) => {
      bytesScanned += (await this.ports.runner.execute(this.ports.insert(sql))).statistics.dataScannedInBytes;
    };
    const visible = this.ports.visible(days);
    const current = await this.inputs(visible);
    const made = await this.made();
    if (made === undefined || !sameInputs(made.inputs, current)) {
      const added = made === undefined ? undefined : addedInputs(made.inputs, current);
      const rowsOf = (inputs: readonly InputFile[]) => {
        const wanted = new Set(inputs.map((f) => f.path));
        return this.ports.tileRows(visible.filter((v) => wanted.has(v.day)));
      };
      await deleteObjects(this.ports.s3, this.ports.bucket, [TILE_POPULATION_STATE_KEY], 'the population index state');
      if (added !== undefined && added.length > 0) {
        const old = await this.keys();
        await insert(populationAddedSql(this.relation(), rowsOf(added)));
        for (let i = 0; i < old.length; i += 1_000)
          await deleteObjects(this.ports.s3, this.ports.bucket, old.slice(i, i + 1_000), 'the population index before its update');
      } else {
        await deletePrefix(this.ports.s3, this.ports.bucket, TILE_POPULATION_PREFIX, 'the population index');
        if (current.length > 0) await insert(populationIndexSql(rowsOf(current)));
      }
      await this.ports.blobs.put(TILE_POPULATION_STATE_KEY, `${JSON.stringify({ inputs: current } satisfies Made, null, 2)}\n`);
    }
    return { population: this.relation(), bytesScanned };
  }

  /** Removes the index (erasure), its state first: the next refresh builds it again from the screened tiles. */
  async drop(): Promise<void> {
    await deleteObjects(this.ports.s3, this.ports.bucket, [TILE_POPULATION_STATE_KEY], 'the population index state');
    await deletePrefix(this.ports.s3, this.ports.bucket, TILE_POPULATION_PREFIX, 'the population index');
  }

  private relation(): string {
    return `(SELECT ${POPULATION_COLUMNS.join(', ')} FROM ${this.ports.table})`;
  }

  private async made(): Promise<Made | undefined> {
    const bytes = await this.ports.blobs.get(TILE_POPULATION_STATE_KEY);
    return bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as Made);
  }

  /** The index's files. */
  private async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of objectsUnder(this.ports.s3, this.ports.bucket, TILE_POPULATION_PREFIX)) keys.push(...page.map((o) => o.key));
    return keys;
  }

  /** The visible days that have tile files (one listing of `tiles/days/`), each as an input: its keys' digest and total size. */
  private async inputs(visible: readonly { readonly day: string; readonly stored: string }[]): Promise<InputFile[]> {
    const byPartition = new Map<string, { keys: string[]; size: number }>();
    for await (const page of objectsUnder(this.ports.s3, this.ports.bucket, TILE_DAYS_PREFIX)) {
      for (const o of page) {
        const stored = /^day=([^/]+)\//.exec(o.key.slice(TILE_DAYS_PREFIX.length))?.[1];
        if (stored === undefined) continue;
        const entry = byPartition.get(stored) ?? { keys: [], size: 0 };
        entry.keys.push(o.key);
        entry.size += o.size;
        byPartition.set(stored, entry);
      }
    }
    return visible
      .flatMap(({ day, stored }) => {
        const files = byPartition.get(stored);
        if (files === undefined) return [];
        const version = createHash('sha256').update(files.keys.sort().join('\n')).digest('hex');
        return [{ path: day, size: files.size, version }];
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
