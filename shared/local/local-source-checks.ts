import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { partitionFolderDate } from '../compiler/partition-date.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import { keysOfText, keysText, partAsOf, type WindowPart, windowOfParts } from '../checks/source-check-parts.ts';
import type { SourceCheckSource } from '../checks/source-check-source.ts';
import {
  compileIdentityChecks,
  compileIdentityKeys,
  compileSourceChecks,
  type IdentityKeyRelation,
  type SourceCheckRequest,
} from '../checks/source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from '../checks/source-rows.ts';
import { DAY_MS, type SourceCheckWindow, sourceCheckWindow } from '../checks/source-window.ts';
import type { LakeView, QueryEngine } from '../ports.ts';
import type { InputFile } from '../tiles/fingerprint.ts';
import { duckdbLakeRelations, fileList } from './duckdb-lake.ts';
import { byFormat, type LakeFiles, list } from './lake-files.ts';
import { inputsOf } from './local-population.ts';
import { readJson, writeJsonAtomically, writeTextAtomically } from './local-tiles.ts';
import { makeFolder } from './make-folder.ts';
import { lakeFileError, readParquetSchemas } from './parquet-columns.ts';

/** The folder under the state folder where the source checks keep what they read between runs. */
export const CHECKS_FOLDER = 'checks';

/**
 * A normalized user id as the kept keys hold it: its MD5 digest (hex), so the file names no user
 * id (erasure's sweep reads every file of the state folder for a person's ids).
 */
const keyOf = (column: string) => `md5(${column})`;

/** An event (source, event_id) as a partition's kept digests hold it: DuckDB's 64-bit hash. */
const eventKeyOf = (source: string, eventId: string) => `hash(${source}, ${eventId})`;

/** What `identity-keys.json` records about the kept keys. */
interface KeptIdentityKeys {
  /** A digest of the identities files (path, size, modification time) and of the query that read them. */
  readonly fingerprint: string;
  /** The Parquet file of the keys, beside this record. */
  readonly file: string;
  /** SHA-256 of its bytes: a file that does not match is built again. */
  readonly sha256: string;
  /** The `identity` rows of the source checks (keys and conflicts per source), counted when the keys were kept. */
  readonly rows: readonly SourceCheckRow[];
}

/** What `parts/dt=<d>.json` records about one partition's part of the window's rows. */
interface KeptPart {
  /** A digest of the partition's files (path, size, modification time), the window's days, the kept identity keys and the query. */
  readonly fingerprint: string;
  /** The latest ts of any row of the partition (epoch ms): the part serves a run whose as-of is after it. */
  readonly newest_ms: number | null;
  /** The earliest ts of any row of the partition (epoch ms); absent in parts kept before it was recorded. */
  readonly oldest_ms?: number | null;
  /** The partition's rows (source-rows.ts; no `identity` rows). */
  readonly rows: readonly SourceCheckRow[];
  /**
   * SHA-256 of `dt=<d>.keys`: the digests of the partition's valid events in the window (sorted
   * 64-bit, in the machine's byte order), as base64 text (erasure's sweep reads every file of the
   * state folder, and cannot read bytes that are neither Parquet, gzip nor text).
   */
  readonly keys_sha256: string;
}

/** One partition of the window: its files and the relations over them alone. */
interface PartFiles {
  readonly partition: string;
  readonly files: LakeFiles['events'];
  readonly lake: LakeRelations;
  readonly inputs: readonly InputFile[];
}

/** One partition's part: its rows and event digests, and whether it was read from the kept part. */
type Part = WindowPart;

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** The two fingerprints a partition's part may be kept under (see LocalSourceChecks' fingerprints). */
interface Fingerprints {
  readonly day: string;
  readonly inside: string;
}

const msOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * Whether every row of a partition lies inside a window, so the source checks classify each row
 * the same in every window where this holds: the partition is one of the window's days up to the
 * one holding T (a row without a ts counts by its partition), and every ts is at or after the
 * window's start (none is dated before it) and before T (none is invisible).
 */
function inside(window: SourceCheckWindow, partition: string, oldestMs: number | null, newestMs: number | null): boolean {
  const { from, to } = window.undatedPartitions;
  return (
    partition >= from &&
    partition <= to &&
    (oldestMs === null || oldestMs >= window.startMs) &&
    (newestMs === null || newestMs < window.endMs)
  );
}

/**
 * The local source checks (issue 15: a realtime tick costs in proportion to today's events).
 *
 * - The identity map is normalized and grouped once per version of `identities/`:
 *   `<state>/checks/identity-keys-<fingerprint>.parquet` holds one row per identity key (source,
 *   MD5 of the normalized user id) and `identity-keys.json` its fingerprint, checksum and the
 *   `identity` rows (keys and conflicts per source).
 * - Each `dt` partition of the window keeps its part of the rows (`parts/dt=<d>.json`) and the
 *   digests of its events (`parts/dt=<d>.keys`), keyed by its files, the identity keys and, unless
 *   every row of it lies inside the window (then any later window that holds them reads it too:
 *   a daily refresh recomputes only the window's edges), the window's days; a run recomputes only
 *   the partitions whose files changed (today's, a late file's day) or that hold a row at or after
 *   its as-of, and adds the parts up
 *   (source-check-parts.ts). When two partitions share an event digest, it reads the window at
 *   once instead.
 *
 * A kept file that does not match its record, or an unreadable record, is computed again; the
 * rows are those of {@link querySourceChecks} (test/checks runs every source-check test both ways).
 * Nothing kept names a person or a user id.
 */
export class LocalSourceChecks implements SourceCheckSource {
  private readonly folder: string;
  private readonly parts: string;

  constructor(
    private readonly connection: DuckDBConnection,
    /** Runs the checks' queries (an unreadable lake file fails naming it). */
    private readonly engine: QueryEngine,
    private readonly lakeDir: string,
    stateDir: string,
  ) {
    this.folder = join(stateDir, CHECKS_FOLDER);
    this.parts = join(this.folder, 'parts');
  }

  /** The rows of the source checks as of `asOf`; `lake` is not read (the window's files are listed once, here). */
  async rows(asOf: Date, _lake?: LakeView): Promise<SourceCheckRow[]> {
    const window = sourceCheckWindow(asOf);
    const files = await this.windowFiles(window.partitions);
    const read = async (sql: string) => (await this.connection.runAndReadAll(sql)).getRows();
    const schemas = await readParquetSchemas(read, [...files.events.parquet, ...files.identities.parquet], fileList);
    const relationsOf = (events: LakeFiles['events']): LakeRelations => {
      const relations = duckdbLakeRelations({ ...files, events }, schemas);
      return { events: relations.events, identities: relations.identities };
    };
    const all = [...files.events.parquet, ...files.events.jsonl, ...files.identities.parquet, ...files.identities.jsonl];
    const inputs = await inputsOf(all.map((file) => ({ path: relative(files.root, file), file })));
    const lake = relationsOf(files.events);
    const identityInputs = inputs.filter((f) => f.path.startsWith(`identities${sep}`));
    const kept = await this.identityKeys(lake.identities, identityInputs);
    const request: SourceCheckRequest = { asOf, lake, dialect: duckdbDialect, identityKeys: kept.relation };
    const partOf = (partition: string): PartFiles => {
      const folder = join(files.root, 'events', `dt=${partition}`) + sep;
      const inFolder = (file: string) => file.startsWith(folder);
      const events = { parquet: files.events.parquet.filter(inFolder), jsonl: files.events.jsonl.filter(inFolder) };
      const prefix = relative(files.root, folder) + sep;
      return { partition, files: events, lake: relationsOf(events), inputs: inputs.filter((f) => f.path.startsWith(prefix)) };
    };
    const lakeOf = (parts: readonly PartFiles[]) =>
      relationsOf({ parquet: parts.flatMap((p) => p.files.parquet), jsonl: parts.flatMap((p) => p.files.jsonl) });
    const events =
      (await this.fromParts(request, files.partitions.map(partOf), lakeOf)) ?? (await this.query(compileSourceChecks(request).sql));
    return [...events, ...kept.rows];
  }

  private async query(sql: string): Promise<SourceCheckRow[]> {
    return readSourceCheckRows(await this.engine.rows(sql));
  }

  /** The lake's files of the window's partitions and its identity map, listed once. */
  private async windowFiles(range: { readonly from: string; readonly to: string }): Promise<LakeFiles> {
    const root = resolve(this.lakeDir);
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
    const identities = byFormat((await list(join(root, 'identities'))) ?? [], join(root, 'identities'));
    return { root, events: { parquet, jsonl }, identities, partitions, skipped: [] };
  }

  /**
   * The window's rows added up from its partitions' parts, each read from its kept part when its
   * files did not change, the others computed in one query; undefined when the window has no
   * partition or no row, or two partitions share an event digest (the caller then reads the
   * window at once).
   */
  private async fromParts(
    request: SourceCheckRequest,
    partitions: readonly PartFiles[],
    lakeOf: (partitions: readonly PartFiles[]) => LakeRelations,
  ): Promise<SourceCheckRow[] | undefined> {
    if (partitions.length === 0) return undefined;
    await makeFolder(this.parts);
    const found = partitions.map((p) => ({ p, fingerprints: this.fingerprints(request, p) }));
    const kept = await Promise.all(found.map(({ p, fingerprints }) => this.keptPart(request.asOf, p.partition, fingerprints)));
    const missing = found.filter((_, i) => kept[i] === undefined);
    const computed = missing.length === 0 ? new Map<string, Part>() : await this.computeParts(request, missing, lakeOf);
    const parts = partitions.map((p, i) => kept[i] ?? (computed.get(p.partition) as Part));
    // Parts read from kept ones that the last run found sharing nothing need no comparison among themselves.
    const checkedFile = join(this.parts, 'checked.json');
    const checked = new Set((await readJson<string[]>(checkedFile).catch(() => undefined)) ?? []);
    const window = windowOfParts(parts, checked);
    if (window === undefined) return undefined;
    if (window.nowChecked !== undefined) await writeJsonAtomically(checkedFile, window.nowChecked);
    await this.dropPartsBefore(partitions[0]?.partition ?? '');
    return window.rows;
  }

  /**
   * What a partition's part was computed from: its files, the kept identity keys, the query and
   * the engine (whose hash digests the events), and how the query placed it in the window:
   * - `day`: T's day (a part does not depend on T itself once every row is before it: the query
   *   compiled for the first instant of T's day names it);
   * - `inside`: no window at all, for a part whose rows all lie inside the window (see
   *   {@link inside}), which every window that holds them as well classifies alike: the query is
   *   compiled for a fixed as-of two days after the partition. A daily refresh reads these again
   *   when the window moves on by a day.
   */
  private fingerprints(request: SourceCheckRequest, { partition, lake, inputs }: PartFiles): Fingerprints {
    const of = (asOf: Date) => {
      const sql = compileSourceChecks({ ...request, lake, asOf, parts: [partition] }).sql;
      return sha256(JSON.stringify({ engine: this.engine.name, inputs, sql }));
    };
    return { day: of(partAsOf(request.asOf)), inside: of(new Date(Date.parse(partition) + 2 * DAY_MS)) };
  }

  /** A partition's kept part, when it was computed from these files for this day and every row of it is before T, or inside this window. */
  private async keptPart(asOf: Date, partition: string, fingerprints: Fingerprints): Promise<Part | undefined> {
    const record = await readJson<KeptPart>(join(this.parts, `dt=${partition}.json`)).catch(() => undefined);
    if (!record) return undefined;
    const forDay = record.fingerprint === fingerprints.day && (record.newest_ms === null || record.newest_ms < asOf.getTime());
    const forAnyWindow =
      record.fingerprint === fingerprints.inside &&
      record.oldest_ms !== undefined &&
      inside(sourceCheckWindow(asOf), partition, record.oldest_ms, record.newest_ms);
    if (!forDay && !forAnyWindow) return undefined;
    const text = await readFile(join(this.parts, `dt=${partition}.keys`), 'utf8').catch(() => undefined);
    if (text === undefined || sha256(text) !== record.keys_sha256) return undefined;
    const keys = keysOfText(text);
    if (keys === undefined) return undefined;
    return { id: `${record.fingerprint}:${record.keys_sha256}`, rows: record.rows, keys, kept: true };
  }

  /** The parts of these partitions from one query over their files; each kept when every row of it is before T. */
  private async computeParts(
    window: SourceCheckRequest,
    partitions: readonly { readonly p: PartFiles; readonly fingerprints: Fingerprints }[],
    lakeOf: (partitions: readonly PartFiles[]) => LakeRelations,
  ): Promise<Map<string, Part>> {
    const names = partitions.map(({ p }) => p.partition);
    const compiled = compileSourceChecks({ ...window, lake: lakeOf(partitions.map(({ p }) => p)), parts: names });
    const byPart = <T>(records: readonly Record<string, unknown>[], column: string, read: (r: Record<string, unknown>) => T) => {
      const grouped = new Map<string, T[]>(names.map((name) => [name, []]));
      for (const record of records) grouped.get(String(record[column]))?.push(read(record));
      return grouped;
    };
    const rows = byPart(await this.engine.rows(compiled.sql), 'part', (record) => record);
    const spans = byPart(await this.engine.rows(compiled.newest), 'dt', (record) => record);
    const keys = byPart(await this.engine.rows(compiled.keys(eventKeyOf)), 'dt', (record) => BigInt(record.key as bigint));
    const endMs = window.asOf.getTime();
    const parts = new Map<string, Part>();
    const placed = sourceCheckWindow(window.asOf);
    for (const { p, fingerprints } of partitions) {
      const span = spans.get(p.partition)?.[0];
      const newestMs = msOrNull(span?.newest_ms);
      const oldestMs = msOrNull(span?.oldest_ms);
      const fingerprint = inside(placed, p.partition, oldestMs, newestMs) ? fingerprints.inside : fingerprints.day;
      const sorted = BigUint64Array.from(keys.get(p.partition) ?? []).sort();
      const text = keysText(sorted);
      const part: KeptPart = {
        fingerprint,
        newest_ms: newestMs,
        oldest_ms: oldestMs,
        rows: readSourceCheckRows(rows.get(p.partition) ?? []),
        keys_sha256: sha256(text),
      };
      if (newestMs === null || newestMs < endMs) await this.keepPart(p.partition, part, text);
      parts.set(p.partition, { id: `${fingerprint}:${part.keys_sha256}`, rows: part.rows, keys: sorted, kept: false });
    }
    return parts;
  }

  /** Removes the kept parts of partitions before `first` (the window moved past them). */
  private async dropPartsBefore(first: string): Promise<void> {
    const names = await readdir(this.parts).catch(() => [] as string[]);
    const old = names.filter((name) => /^dt=\d{4}-\d{2}-\d{2}\.(json|keys)$/.test(name) && name.slice(3, 13) < first);
    await Promise.all(old.map((name) => rm(join(this.parts, name), { force: true })));
  }

  /** Writes a part: its record removed first, the digests, then the record that makes it count. */
  private async keepPart(partition: string, part: KeptPart, keys: string): Promise<void> {
    const record = join(this.parts, `dt=${partition}.json`);
    await rm(record, { force: true });
    await writeTextAtomically(join(this.parts, `dt=${partition}.keys`), keys);
    await writeJsonAtomically(record, part);
  }

  /** The kept identity keys of the lake's identity map as it is now, built when they are missing or stale. */
  private async identityKeys(
    identities: string,
    inputs: readonly InputFile[],
  ): Promise<{ relation: IdentityKeyRelation; rows: readonly SourceCheckRow[] }> {
    const keysSql = compileIdentityKeys(duckdbDialect, identities, keyOf);
    const fingerprint = sha256(JSON.stringify({ engine: this.engine.name, inputs, sql: keysSql }));
    const record = await readJson<KeptIdentityKeys>(join(this.folder, 'identity-keys.json')).catch(() => undefined);
    const usable = record?.fingerprint === fingerprint && (await this.intact(record));
    const kept = usable ? record : await this.keep(identities, keysSql, fingerprint);
    const file = stringLiteral(join(this.folder, kept.file));
    return { relation: { relation: `read_parquet(${file})`, keyOf }, rows: kept.rows };
  }

  /** Whether the kept file is there with the bytes the record names. */
  private async intact(record: KeptIdentityKeys): Promise<boolean> {
    const bytes = await readFile(join(this.folder, record.file)).catch(() => undefined);
    return bytes !== undefined && sha256(bytes) === record.sha256;
  }

  /** Normalizes and counts the identity map, writes the keys and their record, and removes older kept keys. */
  private async keep(identities: string, keysSql: string, fingerprint: string): Promise<KeptIdentityKeys> {
    await makeFolder(this.folder);
    const file = `identity-keys-${fingerprint.slice(0, 16)}.parquet`;
    const tmp = join(this.folder, `.tmp-${randomUUID()}.parquet`);
    try {
      await this.connection
        .run(`COPY (${keysSql} ORDER BY source, user_key) TO ${stringLiteral(tmp)} (FORMAT parquet)`)
        .catch((error: unknown) => {
          throw lakeFileError(error) ?? error;
        });
      const bytes = await readFile(tmp);
      await rename(tmp, join(this.folder, file));
      const rows = await this.query(compileIdentityChecks(duckdbDialect, identities));
      const record: KeptIdentityKeys = { fingerprint, file, sha256: sha256(bytes), rows };
      await writeJsonAtomically(join(this.folder, 'identity-keys.json'), record);
      const older = (await readdir(this.folder)).filter((name) => name.startsWith('identity-keys-') && name !== file);
      await Promise.all(older.map((name) => rm(join(this.folder, name), { force: true })));
      return record;
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
