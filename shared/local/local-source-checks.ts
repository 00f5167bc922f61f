import { rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { KeptSourceChecks, type ListedFile, type ListedSource } from '../checks/kept-source-checks.ts';
import { partitionFolderDate } from '../compiler/partition-date.ts';
import type { DuckDbEngine } from './duckdb-engine.ts';
import { duckdbLakeRelations, fileList } from './duckdb-lake.ts';
import { FsBlobStore } from './fs-blob-store.ts';
import { byFormat, type LakeFiles, list } from './lake-files.ts';
import { localIdentityKeys } from './local-identity-keys.ts';
import { inputsOf } from './local-population.ts';
import { readParquetSchemas } from './parquet-columns.ts';

/** The folder under the state folder where the source checks keep what they read between runs. */
export const CHECKS_FOLDER = 'checks';

/** An event (source, event_id) as a partition's kept digests hold it: DuckDB's 64-bit hash. */
const eventKeyOf = (source: string, eventId: string) => `hash(${source}, ${eventId})`;

/**
 * The local source checks (issue 15: a realtime tick costs in proportion to today's events): the
 * kept parts of {@link KeptSourceChecks}, the same as the cloud's, over the state folder.
 *
 * - The parts: `<state>/checks/parts/dt=<d>.json` and their digests beside them
 *   (`dt=<d>.<sha256 prefix>.digests`, read by ranges), keyed by the partition's files as listed here
 *   (path under the lake folder, size, modification time as `version`).
 * - The identity map's keys are kept (local-identity-keys.ts: `<state>/checks/identity-keys.json`
 *   and its Parquet file of MD5 keys), so a run that computes a part joins them instead of
 *   normalizing the map again.
 * - Only the window's `dt` folders are listed, once a run (with their Parquet files' columns).
 *
 * A state folder of an earlier release holds parts with their digests inside them (`keys`) or
 * beside them (`dt=<d>.keys`): such a part does not match and is computed again once; the `.keys` files are
 * dropped when the window moves past them. Nothing kept names a person or a user id.
 */
export class LocalSourceChecks extends KeptSourceChecks {
  constructor(
    connection: DuckDBConnection,
    /** Runs the checks' queries (an unreadable lake file fails naming it). */
    engine: DuckDbEngine,
    lakeDir: string,
    stateDir: string,
  ) {
    const folder = join(stateDir, CHECKS_FOLDER);
    const blobs = new FsBlobStore(stateDir);
    super({
      engine,
      blobs,
      prefix: `${CHECKS_FOLDER}/parts/`,
      remove: async (keys) => {
        await Promise.all(keys.map((key) => rm(blobs.locate(key), { force: true })));
      },
      lake: (partitions) => listWindow(connection, lakeDir, partitions),
      identity: (listed) =>
        localIdentityKeys(
          connection,
          engine,
          folder,
          listed.relations.identities,
          listed.identities.map((f) => ({ path: f.key, size: f.size, version: f.version })),
        ),
      eventKey: eventKeyOf,
      partsRows: (sql) => engine.batches(sql),
      readRange: (key, start, end) => blobs.getRange(key, start, end),
    });
  }
}

/** The lake's files of these `dt` partitions and its identity map, listed once, with the relations over them. */
async function listWindow(
  connection: DuckDBConnection,
  lakeDir: string,
  range: { readonly from: string; readonly to: string },
): Promise<ListedSource> {
  const root = resolve(lakeDir);
  const parquet: string[] = [];
  const jsonl: string[] = [];
  const partitions: string[] = [];
  for (const dir of (await list(join(root, 'events'))) ?? []) {
    const date = partitionFolderDate(dir);
    if (date === undefined || date < range.from || date > range.to) continue;
    const names = await list(join(root, 'events', dir));
    if (names === undefined) continue;
    partitions.push(date);
    const found = byFormat(names, join(root, 'events', dir));
    parquet.push(...found.parquet);
    jsonl.push(...found.jsonl);
  }
  const identityFiles = byFormat((await list(join(root, 'identities'))) ?? [], join(root, 'identities'));
  const files: LakeFiles = { root, events: { parquet, jsonl }, identities: identityFiles, partitions, skipped: [] };
  const read = async (sql: string) => (await connection.runAndReadAll(sql)).getRows();
  const schemas = await readParquetSchemas(read, [...parquet, ...identityFiles.parquet], fileList);
  const listedOf = async (paths: readonly string[]) =>
    (await inputsOf(paths.map((file) => ({ path: relative(root, file), file })))).map(({ path, size, version }): ListedFile => {
      const dt = partitionFolderDate(path.split(sep).at(-2) ?? '');
      return { key: path, size, version, ...(dt === undefined ? {} : { dt }) };
    });
  const relations = duckdbLakeRelations(files, schemas);
  return {
    events: await listedOf([...parquet, ...jsonl]),
    identities: await listedOf([...identityFiles.parquet, ...identityFiles.jsonl]),
    relations: { events: relations.events, identities: relations.identities },
    eventsOf: async (wanted) => {
      const keys = new Set(wanted.map((f) => join(root, f.key)));
      const events = { parquet: parquet.filter((f) => keys.has(f)), jsonl: jsonl.filter((f) => keys.has(f)) };
      return duckdbLakeRelations({ ...files, events }, schemas).events;
    },
  };
}
