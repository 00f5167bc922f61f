import { createHash } from 'node:crypto';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { batchesOf } from './batches-of.ts';
import type { BlobStore, LakeView, QueryEngine } from '../ports.ts';
import { filterOf, filterRecord, filterText } from './digest-filter.ts';
import { type DigestsRecord, digestsRecord, digestsText, type RangeReader } from './part-digests.ts';
import { comparesBySlices, DigestList, partAsOf, type WindowPart, windowOfParts } from './source-check-parts.ts';
import type { SourceCheckSource } from './source-check-source.ts';
import {
  compileIdentityChecks,
  compileIdentityKeys,
  compileSourceChecks,
  type IdentityKeyRelation,
  PARTS_COLUMNS,
  type SourceCheckRequest,
} from './source-query.ts';
import { readSourceCheckRows, SOURCE_CHECK_COLUMNS, type SourceCheckRow } from './source-rows.ts';
import { DAY_MS, type SourceCheckWindow, sourceCheckWindow } from './source-window.ts';

/** One lake file as the run's listing shows it: what a kept part is keyed by. */
export interface ListedFile {
  readonly key: string;
  readonly size: number;
  /** What changes when the file does (S3: its ETag). */
  readonly version: string;
  /** The `dt=` partition of an events file. */
  readonly dt?: string;
}

/** The lake as one run listed it. */
export interface ListedSource {
  /** Every events file of the partitions asked for (or more), with its `dt`. */
  readonly events: readonly ListedFile[];
  /** Every identity map file. */
  readonly identities: readonly ListedFile[];
  /** The relations over every file listed. */
  readonly relations: LakeRelations;
  /** An events relation reading these files (of {@link events}) and no other. */
  readonly eventsOf: (files: readonly ListedFile[]) => Promise<string>;
}

/** Some rows of a result, read by position: a reader converts only the values it uses. */
export interface ResultBatch {
  /** The result's column names, in order. */
  readonly columns: readonly string[];
  readonly rowCount: number;
  /** The value of a row's column (null for SQL NULL). */
  value(row: number, column: number): unknown;
}

/** The identity map as the parts' query joins it, and its `identity` rows. */
export interface IdentityOfLake {
  readonly keys: IdentityKeyRelation;
  readonly rows: readonly SourceCheckRow[];
}

/**
 * Above 3 GiB of events files in the check window, the window is read at once, as before the kept
 * parts. A run that computes every partition (the first, or after the parts or `checked.json` were
 * lost) no longer holds the window's digests: each part's are written, dropped, and compared read
 * back one slice of the hash range at a time (source-check-parts.ts' SLICE_DIGESTS), so it holds
 * one batch of parts and one slice of the window. A later tick reads each kept part's digest filter
 * and then only the buckets of the digests it cannot rule out; a part without a filter is read by
 * buckets, or whole once its new digests fall in most of them, a few parts at a time up to
 * KEPT_DIGESTS_AT_ONCE digests (source-check-parts.ts), so memory still goes with a day's events (the
 * figures below predate the filters). bench/source-digests-bench.ts, peak RSS, first computation / later ticks: 3.0M digests
 * 199 / 166-172 MB, 30.1M 339 / 278-290 MB, 60.2M 335 / 382-384 MB, 90.3M (2.94 GiB of files at
 * the bench lake's 35 bytes an event) 439 / 472-476 MB (Plan has 1 GB). Memory goes with events,
 * not bytes: files denser than 35 bytes an event hold more digests. (1 GiB until 2026-12-06, when
 * the first computation held every digest: 524 MB at 30.1M; 384 MiB and 64 MiB before.)
 */
export const MAX_KEPT_WINDOW_BYTES = 3 * 1024 * 1024 * 1024;

/**
 * At most this many bytes of events files a query computing parts reads (a larger partition alone):
 * a run computing many partitions (the first) holds one batch's rows and digests, and the engine one
 * batch's groups, at a time. On the 10M bench lake (Parquet, about 3.9 MB a day, the window's 31
 * partitions 3.5M events, 4 batches) bench/checks-first-bench.ts measured the first computation at
 * 593 MB peak RSS against 1437 MB in one query (16 MiB: 540 MB; 64 MiB: 874 MB), its CPU time within
 * the noise (about 20 s). In Athena each batch is one more statement (billed at least 10 MB).
 */
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;

/** What {@link KeptSourceChecks} runs on: one world's engine, store and listing. */
export interface KeptSourceChecksPorts {
  /** Runs the checks' queries (its name is part of every fingerprint). */
  readonly engine: QueryEngine;
  /** Where the parts are kept, under {@link prefix}. */
  readonly blobs: BlobStore;
  /** Key prefix of the kept parts, ending in `/` (the snapshots bucket's `checks/parts/`). */
  readonly prefix: string;
  /** Deletes kept objects (the parts of partitions the window moved past). */
  readonly remove: (keys: readonly string[]) => Promise<void>;
  /** The run's one listing of the lake: at least every events file of these `dt` partitions, and the identity map's. */
  readonly lake: (partitions: { readonly from: string; readonly to: string }) => Promise<ListedSource>;
  /**
   * The identity map's keys the parts' query joins, and its `identity` rows, as the listed map is
   * (the local checks keep a table of its keys). Whatever it returns must follow from the listed
   * identity files alone: they key the parts.
   * @default - the keys read in place by the query; the rows kept in `<prefix>identity.json` by the map's files
   */
  readonly identity?: (listed: ListedSource) => Promise<IdentityOfLake>;
  /** An event's 64-bit digest (source, event_id) in the engine's dialect, signed or not. */
  readonly eventKey: (source: string, eventId: string) => string;
  /**
   * Runs the parts' one statement (CompiledSourceChecks.byParts), whose rows include one per event
   * of the partitions computed, in batches read by position (only the values used are read).
   * @default - the engine's rows, in one batch
   */
  readonly partsRows?: (sql: string) => AsyncIterable<ResultBatch>;
  /**
   * Reads bytes [start, end) of a kept object (S3: a ranged GET): a run looks up its new event
   * digests in the kept parts' buckets they fall in.
   * @default - the object read whole, then cut
   */
  readonly readRange?: RangeReader;
  /**
   * Above this many bytes of events files in the window, the window is read at once every run and
   * nothing is kept (a tick holds some kept parts' digests, 8 bytes an event, at a time).
   * @default MAX_KEPT_WINDOW_BYTES
   */
  readonly maxWindowBytes?: number;
  /** At most this many bytes of events files a query computing parts reads. @default MAX_BATCH_BYTES */
  readonly batchBytes?: number;
  /**
   * How long a run may spend computing parts, in ms from its first batch: past it no further batch
   * is started, the parts computed so far are kept for the next run, and this run reads the window
   * at once (one more statement). A first computation of a big window is many statements, and the
   * cloud's Plan has 120 s for all it does. @default - no limit
   */
  readonly computeBudgetMs?: number;
  /** The clock the budget is measured by (epoch ms). @default Date.now */
  readonly nowMs?: () => number;
}

/** What `<prefix>dt=<d>.json` holds: one partition's part of the window's rows. */
interface KeptPart {
  /**
   * A digest of the partition's files (key, size, version), the identity map's, the queries and
   * the engine, and T's day unless every row of the part lies inside the window (see {@link Fingerprints}).
   */
  readonly fingerprint: string;
  /** The latest ts of any row of the partition (epoch ms): the part serves a run whose as-of is after it. */
  readonly newest_ms: number | null;
  /** The earliest ts of any row of the partition (epoch ms). */
  readonly oldest_ms: number | null;
  /** The partition's rows (no `identity` rows). */
  readonly rows: readonly SourceCheckRow[];
  /** Where the digests of its valid events in the window are kept (no user id, no event id), and their buckets. */
  readonly digests: DigestsRecord;
}

/** What `<prefix>identity.json` holds: the `identity` rows of the map as its files were. */
interface KeptIdentity {
  readonly fingerprint: string;
  readonly rows: readonly SourceCheckRow[];
}

/** The two fingerprints a partition's part may be kept under (see KeptSourceChecks' fingerprints). */
interface Fingerprints {
  readonly day: string;
  readonly inside: string;
}

/** A partition whose part a run computes, and the kept record it replaces. */
interface MissingPart {
  readonly partition: string;
  readonly fingerprints: Fingerprints;
  readonly before?: WindowPart['before'];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/**
 * A kept part: its record, its digests (`dt=<d>.<sha256 prefix>.digests`) and their filter (`.filter`, since 2026-12-07) and what earlier releases
 * kept (`.keys`: the digests the local checks kept beside a part before 2026-12-05), dropped alike.
 */
const PART = /dt=(\d{4}-\d{2}-\d{2})\.(?:json|keys|[0-9a-f]{16}\.(?:digests|filter))$/;
/** The objects of a kept part's digests: theirs and their filter's (a string: the record is as read). */
const keysOf = (digests: DigestsRecord): string[] =>
  typeof digests.filter?.key === 'string' ? [digests.key, digests.filter.key] : [digests.key];
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

/** The identity map's keys read in place by the query (`user_key` as the query normalizes it). */
const inPlace = (identities: string, engine: QueryEngine): IdentityKeyRelation => ({
  relation: `(${compileIdentityKeys(engine.dialect, identities, (column) => column)})`,
  keyOf: (column) => column,
});

/** Placeholders for the relations in the SQL a fingerprint digests: the files are digested themselves. */
const NAMED: LakeRelations = { events: 'events', identities: 'identities', lists: 'lists' };

/**
 * The source checks by `dt` partition, their parts kept in a blob store between runs (issue 15: a
 * realtime tick costs in proportion to today's events), in both worlds: the cloud's snapshots
 * bucket (athena-source-checks.ts) and the local state folder (local-source-checks.ts). A run
 * computes only the partitions whose files changed (key, size, version) or that hold a row at or
 * after its as-of, reading them alone (`dt IN (...)`, their files only) in ONE query per batch of
 * at most {@link MAX_BATCH_BYTES} of files (one for a tick), and adds up every part (source-check-parts.ts).
 *
 * - Three objects per partition, `dt=<d>.json` (fingerprint, oldest and newest ts, rows, where its
 *   event digests are and their bucket index), `dt=<d>.<sha256 prefix>.digests` (the digests,
 *   part-digests.ts) and `.filter` beside them (their membership filter, digest-filter.ts): a run
 *   writes only the parts it computed (usually today's), reads each record once, and of the digests
 *   only the buckets of its new digests the filter cannot rule out (source-check-parts.ts'
 *   windowOfParts), whole where they would cover half of a part.
 * - A part is keyed by T's day, unless every row of it lies inside the window: then every later
 *   window that holds them reads it too, and the first run of a UTC day computes only the
 *   window's edges, not all 30 partitions ({@link Fingerprints}).
 * - The identity map: by default read in place by that query (its cost is its bytes, once per run
 *   that computes a part: the digests' query joins no key), its `identity` rows kept in
 *   `identity.json` by its files; a world may keep its keys instead (KeptSourceChecksPorts.identity).
 * - When two partitions share an event digest, no partition has a row, or the window's files pass
 *   {@link MAX_KEPT_WINDOW_BYTES}, the window is read at once (the query of querySourceChecks).
 *
 * Nothing kept names a person, a user id or an event id: counts, sources and 64-bit digests.
 * The rows are those of the query over the whole window (test/checks runs each test both ways).
 */
export class KeptSourceChecks implements SourceCheckSource {
  constructor(private readonly ports: KeptSourceChecksPorts) {}

  /** The rows of the source checks as of `asOf` over the ports' listing (`lake` is not read). */
  async rows(asOf: Date, _lake?: LakeView): Promise<SourceCheckRow[]> {
    const { engine } = this.ports;
    const window = sourceCheckWindow(asOf);
    const listed = await this.ports.lake(window.partitions);
    const inWindow = listed.events.filter((f) => f.dt !== undefined && f.dt >= window.partitions.from && f.dt <= window.partitions.to);
    const partitions = [...new Set(inWindow.map((f) => f.dt as string))].sort();
    const query = async (identityKeys?: IdentityKeyRelation) =>
      readSourceCheckRows(
        await engine.rows(
          compileSourceChecks({ asOf, lake: listed.relations, dialect: engine.dialect, ...(identityKeys ? { identityKeys } : {}) }).sql,
        ),
      );
    if (partitions.length === 0) return query();
    const windowBytes = inWindow.reduce((sum, f) => sum + f.size, 0);
    if (windowBytes > (this.ports.maxWindowBytes ?? MAX_KEPT_WINDOW_BYTES)) return query();
    const identityFiles = JSON.stringify(fileKeys(listed.identities));
    const identity = await (this.ports.identity ?? ((l: ListedSource) => this.identityInPlace(l, identityFiles)))(listed);
    const filesOf = (partition: string) => inWindow.filter((f) => f.dt === partition);
    const found = partitions.map((partition) => ({
      partition,
      fingerprints: this.fingerprints(asOf, partition, identity.keys, fileKeys(filesOf(partition)), identityFiles),
    }));
    const kept = await Promise.all(found.map((f) => this.keptPart(asOf, f.partition, f.fingerprints)));
    const missing = found.filter((_, i) => kept[i]?.part === undefined).map((f) => ({ ...f, before: kept[found.indexOf(f)]?.before }));
    const checkedKey = `${this.ports.prefix}checked.json`;
    const checked = new Set((await this.readJson<string[]>(checkedKey)) ?? []);
    // Compared slice by slice (a first computation): the parts computed are not held once written, but read back by slice.
    const unchecked = kept.filter((k) => k?.part === undefined || !checked.has(k.part.id)).length;
    const holdKeys = !comparesBySlices(unchecked, found.length);
    const { parts: computed, complete } =
      missing.length === 0
        ? { parts: new Map<string, WindowPart>(), complete: true }
        : await this.computeParts(asOf, listed, identity.keys, missing, filesOf, holdKeys);
    // The digests of records this run replaced (a computed part with `kept` was written).
    const stale = [...computed.values()].flatMap((p) =>
      p.kept !== undefined && p.before !== undefined && p.before.digests.key !== p.kept.key ? keysOf(p.before.digests) : [],
    );
    if (!complete) {
      // Out of time: what was computed is kept (new ids: the next run compares their digests whole), the window read at once.
      if (stale.length > 0) await this.ports.remove(stale);
      return [...(await query(identity.keys)), ...identity.rows];
    }
    const parts = found.map((f, i) => kept[i]?.part ?? (computed.get(f.partition) as WindowPart));
    const { blobs } = this.ports;
    const added = await windowOfParts(parts, checked, {
      get: (key) => blobs.get(key),
      read: this.ports.readRange ?? (async (key, start, end) => (await blobs.get(key))?.subarray(start, end)),
      // A kept part whose digests do not hold together is computed again by the next run.
      broken: (part) => this.ports.remove([`${this.ports.prefix}dt=${found[parts.indexOf(part)]?.partition}.json`]),
    });
    if (added?.nowChecked !== undefined) await blobs.put(checkedKey, `${JSON.stringify(added.nowChecked)}\n`);
    if (stale.length > 0) await this.ports.remove(stale);
    if (added !== undefined) await this.dropPartsBefore(partitions[0] as string);
    const events = added?.rows ?? (await query(identity.keys));
    return [...events, ...identity.rows];
  }

  /** A kept JSON object; undefined when it is missing or unreadable. */
  private async readJson<T>(key: string): Promise<T | undefined> {
    const bytes = await this.ports.blobs.get(key);
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as T;
    } catch {
      return undefined;
    }
  }

  /** The identity map's keys read in place by the query; its `identity` rows kept by its files, asked again when they changed. */
  private async identityInPlace(listed: ListedSource, files: string): Promise<IdentityOfLake> {
    const { engine } = this.ports;
    const keys = inPlace(listed.relations.identities, engine);
    const fingerprint = sha256(
      JSON.stringify({ engine: engine.name, files, sql: compileIdentityChecks(engine.dialect, NAMED.identities) }),
    );
    const key = `${this.ports.prefix}identity.json`;
    const record = await this.readJson<KeptIdentity>(key);
    if (record?.fingerprint === fingerprint) return { keys, rows: record.rows };
    const rows = readSourceCheckRows(await engine.rows(compileIdentityChecks(engine.dialect, listed.relations.identities)));
    await this.ports.blobs.put(key, `${JSON.stringify({ fingerprint, rows } satisfies KeptIdentity)}\n`);
    return { keys, rows };
  }

  /**
   * What a partition's part was computed from: its files, the identity map's, the queries and the
   * engine (whose hash digests the events), and how the query placed it in the window:
   * - `day`: T's day (a part does not depend on T itself once every row is before it: the query
   *   compiled for the first instant of T's day names it);
   * - `inside`: no window at all, for a part whose rows all lie inside the window (see
   *   {@link inside}), which every window that holds them as well classifies alike: the query is
   *   compiled for a fixed as-of two days after the partition.
   */
  private fingerprints(
    asOf: Date,
    partition: string,
    identityKeys: IdentityKeyRelation,
    files: readonly string[][],
    identities: string,
  ): Fingerprints {
    const { engine } = this.ports;
    const of = (compiledAsOf: Date) => {
      const request = {
        asOf: compiledAsOf,
        lake: NAMED,
        dialect: engine.dialect,
        identityKeys: { relation: 'identity_keys', keyOf: identityKeys.keyOf },
        parts: [partition],
      };
      const sql = compileSourceChecks(request).byParts(this.ports.eventKey);
      return sha256(JSON.stringify({ engine: engine.name, files, identities, sql }));
    };
    return { day: of(partAsOf(asOf)), inside: of(new Date(Date.parse(partition) + 2 * DAY_MS)) };
  }

  /**
   * A partition's kept part, when it was computed from these files for this day and every row of it
   * is before T, or inside this window; otherwise the kept record it would replace (`before`), whose
   * digests the part computed again is compared with. Nothing for a record of an earlier layout.
   */
  private async keptPart(
    asOf: Date,
    partition: string,
    fingerprints: Fingerprints,
  ): Promise<{ readonly part?: WindowPart; readonly before?: WindowPart['before'] } | undefined> {
    const record = await this.readJson<KeptPart>(`${this.ports.prefix}dt=${partition}.json`);
    if (typeof record?.digests?.key !== 'string' || typeof record.digests.sha256 !== 'string' || !Array.isArray(record.rows))
      return undefined;
    const id = `${record.fingerprint}:${record.digests.sha256}`;
    const forDay = record.fingerprint === fingerprints.day && (record.newest_ms === null || record.newest_ms < asOf.getTime());
    const forAnyWindow =
      record.fingerprint === fingerprints.inside &&
      record.oldest_ms !== undefined &&
      inside(sourceCheckWindow(asOf), partition, record.oldest_ms, record.newest_ms);
    if (!forDay && !forAnyWindow) return { before: { id, digests: record.digests } };
    return { part: { id, rows: record.rows, kept: record.digests } };
  }

  /**
   * The parts of these partitions, each kept when every row of it is before T: one query over the
   * files of a batch of them alone ({@link batchesOf}), whose parts are written before the next
   * batch is read, so a run holds one batch's rows and digests at a time, not the window's. Not
   * `complete` when the ports' budget ran out before the last batch (the parts computed are kept).
   */
  private async computeParts(
    asOf: Date,
    listed: ListedSource,
    identityKeys: IdentityKeyRelation,
    partitions: readonly MissingPart[],
    filesOf: (partition: string) => readonly ListedFile[],
    holdKeys: boolean,
  ): Promise<{ readonly parts: Map<string, WindowPart>; readonly complete: boolean }> {
    const bytesOf = (p: MissingPart) => filesOf(p.partition).reduce((sum, f) => sum + f.size, 0);
    const parts = new Map<string, WindowPart>();
    const now = this.ports.nowMs ?? Date.now;
    const { computeBudgetMs } = this.ports;
    const started = now();
    for (const batch of batchesOf(partitions, bytesOf, this.ports.batchBytes ?? MAX_BATCH_BYTES)) {
      if (computeBudgetMs !== undefined && parts.size > 0 && now() - started >= computeBudgetMs) return { parts, complete: false };
      for (const [partition, part] of await this.computeBatch(asOf, listed, identityKeys, batch, filesOf, holdKeys))
        parts.set(partition, part);
    }
    return { parts, complete: true };
  }

  /**
   * The parts of these partitions from one query over their files alone; each kept when every row of
   * it is before T. A kept part's digests are held in memory only with `holdKeys` (otherwise the
   * comparison reads them back by slice): a part not kept is held either way.
   */
  private async computeBatch(
    asOf: Date,
    listed: ListedSource,
    identityKeys: IdentityKeyRelation,
    partitions: readonly MissingPart[],
    filesOf: (partition: string) => readonly ListedFile[],
    holdKeys: boolean,
  ): Promise<Map<string, WindowPart>> {
    const { engine } = this.ports;
    const names = partitions.map((p) => p.partition);
    const events = await listed.eventsOf(names.flatMap(filesOf));
    const request: SourceCheckRequest = {
      asOf,
      lake: { ...listed.relations, events },
      dialect: engine.dialect,
      identityKeys,
      parts: names,
    };
    const rows = new Map<string, Record<string, unknown>[]>(names.map((name) => [name, []]));
    const spans = new Map<string, { readonly newest: number | null; readonly oldest: number | null }>();
    const keys = new Map(names.map((name) => [name, new DigestList()]));
    const read = this.ports.partsRows ?? ((sql: string) => engineBatches(engine, sql));
    for await (const batch of read(compileSourceChecks(request).byParts(this.ports.eventKey))) {
      const column = columnsAt(batch.columns);
      for (let row = 0; row < batch.rowCount; row += 1) {
        const at = (name: (typeof PARTS_COLUMNS)[number]) => batch.value(row, column[name]);
        const part = String(at('part'));
        const kind = at('kind');
        if (kind === 'key') keys.get(part)?.push(BigInt.asUintN(64, BigInt(at('key') as bigint | string)));
        else if (kind === 'span') spans.set(part, { newest: msOrNull(at('newest_ms')), oldest: msOrNull(at('oldest_ms')) });
        else if (kind === 'rows') rows.get(part)?.push(Object.fromEntries(SOURCE_CHECK_COLUMNS.map((c) => [c, at(c)])));
        else throw new Error(`source checks: unexpected kind of row ${String(kind)}`);
      }
    }
    const window = sourceCheckWindow(asOf);
    const parts = new Map<string, WindowPart>();
    for (const { partition, fingerprints, before } of partitions) {
      const newestMs = spans.get(partition)?.newest ?? null;
      const oldestMs = spans.get(partition)?.oldest ?? null;
      const sorted = keys.get(partition)?.sorted() ?? new BigUint64Array(0);
      const text = digestsText(sorted);
      const named = `${this.ports.prefix}dt=${partition}.${sha256(text).slice(0, 16)}`;
      const filter = filterOf(sorted);
      const filterBody = filterText(filter);
      const digests = { ...digestsRecord(`${named}.digests`, sorted, text), filter: filterRecord(`${named}.filter`, filter, filterBody) };
      const part: KeptPart = {
        fingerprint: inside(window, partition, oldestMs, newestMs) ? fingerprints.inside : fingerprints.day,
        newest_ms: newestMs,
        oldest_ms: oldestMs,
        rows: readSourceCheckRows(rows.get(partition) ?? []),
        digests,
      };
      const keep = newestMs === null || newestMs < asOf.getTime();
      if (keep) {
        // The digests and filter first: a record never names an object not written yet.
        await this.ports.blobs.put(digests.filter.key, filterBody);
        await this.ports.blobs.put(digests.key, text);
        await this.ports.blobs.put(`${this.ports.prefix}dt=${partition}.json`, `${JSON.stringify(part)}\n`);
      }
      const id = `${part.fingerprint}:${digests.sha256}`;
      const held = holdKeys || !keep ? { keys: sorted } : {};
      parts.set(partition, { id, rows: part.rows, ...held, ...(keep ? { kept: digests } : {}), ...(before ? { before } : {}) });
    }
    return parts;
  }

  /** Deletes the kept parts of partitions before `first` (the window moved past them). */
  private async dropPartsBefore(first: string): Promise<void> {
    const old = (await this.ports.blobs.list(this.ports.prefix)).filter((key) => {
      const dt = PART.exec(key)?.[1];
      return dt !== undefined && dt < first;
    });
    if (old.length > 0) await this.ports.remove(old);
  }
}

/** The parts' statement's rows from the engine, in one batch. */
async function* engineBatches(engine: QueryEngine, sql: string): AsyncGenerator<ResultBatch> {
  const records = await engine.rows(sql);
  yield { columns: PARTS_COLUMNS, rowCount: records.length, value: (row, column) => records[row]?.[PARTS_COLUMNS[column] as string] };
}

/** Where each column of the parts' statement is in its rows, from its column names. */
function columnsAt(names: readonly string[]): Record<(typeof PARTS_COLUMNS)[number], number> {
  return Object.fromEntries(
    PARTS_COLUMNS.map((column) => {
      const i = names.indexOf(column);
      if (i < 0) throw new Error(`source checks: the parts' result has no column ${column}`);
      return [column, i];
    }),
  ) as Record<(typeof PARTS_COLUMNS)[number], number>;
}

/** Files as a fingerprint names them, in key order. */
function fileKeys(files: readonly ListedFile[]): string[][] {
  return [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((f) => [f.key, String(f.size), f.version]);
}
