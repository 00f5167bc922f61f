import { rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KeptSourceChecks, type KeptSourceChecksPorts, type ListedFile } from '../../shared/checks/kept-source-checks.ts';
import { partitionFolderDate } from '../../shared/compiler/partition-date.ts';
import { duckdbLakeRelations } from '../../shared/local/duckdb-lake.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import type { QueryEngine } from '../../shared/ports.ts';

/**
 * The cloud's kept source checks (kept-source-checks.ts) over DuckDB and a folder standing for the
 * snapshots bucket: the same logic the Athena wiring runs, its listing the lake folder's files
 * (a file's version is its modification time), so its rows can be compared with the query's.
 * `batchBytes`: the parts' batches (KeptSourceChecksPorts.batchBytes); `budget`: how long a run may compute parts, by which clock.
 */
export function keptChecksOver(
  engine: QueryEngine,
  lakeDir: string,
  state: string,
  prefix = 'checks/parts/',
  batchBytes?: number,
  budget: Pick<KeptSourceChecksPorts, 'computeBudgetMs' | 'nowMs'> = {},
): KeptSourceChecks {
  const blobs = new FsBlobStore(state);
  const listing = async () => {
    const files = await findLakeFiles(lakeDir);
    const listed = async (file: string): Promise<ListedFile> => {
      const s = await stat(file);
      const dt = partitionFolderDate(basename(dirname(file)));
      return { key: file, size: s.size, version: String(s.mtimeMs), ...(dt === undefined ? {} : { dt }) };
    };
    const events = await Promise.all([...files.events.parquet, ...files.events.jsonl].map(listed));
    const identities = await Promise.all([...files.identities.parquet, ...files.identities.jsonl].map(listed));
    return { files, events, identities };
  };
  return new KeptSourceChecks({
    engine,
    blobs,
    prefix,
    remove: async (keys) => {
      await Promise.all(keys.map((key) => rm(join(state, key), { force: true })));
    },
    lake: async () => {
      const { files, events, identities } = await listing();
      return {
        events,
        identities,
        relations: duckdbLakeRelations(files),
        eventsOf: async (wanted) => {
          const keys = new Set(wanted.map((f) => f.key));
          const only = { parquet: files.events.parquet.filter((f) => keys.has(f)), jsonl: files.events.jsonl.filter((f) => keys.has(f)) };
          return duckdbLakeRelations({ ...files, events: only }).events;
        },
      };
    },
    eventKey: (source, eventId) => `hash(${source}, ${eventId})`,
    readRange: (key, start, end) => blobs.getRange(key, start, end),
    ...(batchBytes === undefined ? {} : { batchBytes }),
    ...budget,
  });
}
