import { createHash } from 'node:crypto';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import type { BlobStore, LakeView, QueryEngine } from '../ports.ts';
import { keysOfText, keysText, partAsOf, type WindowPart, windowOfParts } from './source-check-parts.ts';
import type { SourceCheckSource } from './source-check-source.ts';
import {
  compileIdentityChecks,
  compileIdentityKeys,
  compileSourceChecks,
  type IdentityKeyRelation,
  type SourceCheckRequest,
} from './source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from './source-rows.ts';
import { sourceCheckWindow } from './source-window.ts';

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
  /** Every events file, with its `dt`. */
  readonly events: readonly ListedFile[];
  /** Every identity map file. */
  readonly identities: readonly ListedFile[];
  /** The relations over every file listed. */
  readonly relations: LakeRelations;
}

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
  /** The run's one listing of the lake. */
  readonly lake: () => Promise<ListedSource>;
  /** An events relation reading these files and no other. */
  readonly eventsOf: (files: readonly ListedFile[]) => Promise<string>;
  /** An event's 64-bit digest (source, event_id) in the engine's dialect, signed or not. */
  readonly eventKey: (source: string, eventId: string) => string;
  /** Runs the digests query (columns `dt`, `key`): there may be one row per event of a day. @default - the engine's rows */
  readonly keyRows?: (sql: string) => Promise<readonly Record<string, unknown>[]>;
  /**
   * Above this many bytes of events files in the window, the window is read at once every run and
   * nothing is kept: the parts' event digests (8 bytes an event of the window) are held in memory.
   * @default - no limit
   */
  readonly maxWindowBytes?: number;
}

/** What `<prefix>dt=<d>.json` holds: one partition's part of the window's rows. */
interface KeptPart {
  /** A digest of the partition's files (key, size, version), the identity map's, T's day, the queries and the engine. */
  readonly fingerprint: string;
  /** The latest ts of any row of the partition (epoch ms): the part serves a run whose as-of is after it. */
  readonly newest_ms: number | null;
  /** The partition's rows (no `identity` rows). */
  readonly rows: readonly SourceCheckRow[];
  /** Digests of its valid events in the window (keysText): no user id, no event id. */
  readonly keys: string;
}

/** What `<prefix>identity.json` holds: the `identity` rows of the map as its files were. */
interface KeptIdentity {
  readonly fingerprint: string;
  readonly rows: readonly SourceCheckRow[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const PART = /dt=(\d{4}-\d{2}-\d{2})\.json$/;

/** The identity map's keys read in place by the query (`user_key` as the query normalizes it). */
const inPlace = (identities: string, engine: QueryEngine): IdentityKeyRelation => ({
  relation: `(${compileIdentityKeys(engine.dialect, identities, (column) => column)})`,
  keyOf: (column) => column,
});

/**
 * No identity key: the digests of the valid events do not depend on the identity map, so their
 * query joins none instead of reading the map a second time.
 */
const NO_IDENTITY_KEYS: IdentityKeyRelation = {
  relation: "(SELECT '' AS source, '' AS user_key WHERE 1 = 0)",
  keyOf: (column) => column,
};

/** The query of a request's event digests (per `dt`), joining no identity key. */
const digestsSql = (request: SourceCheckRequest, eventKey: (source: string, eventId: string) => string) =>
  compileSourceChecks({ ...request, identityKeys: NO_IDENTITY_KEYS }).keys(eventKey);

/** Placeholders for the relations in the SQL a fingerprint digests: the files are digested themselves. */
const NAMED: LakeRelations = { events: 'events', identities: 'identities', lists: 'lists' };

/**
 * The source checks by `dt` partition, their parts kept in a blob store (the cloud's snapshots
 * bucket, issue 15): a tick computes in ONE query only the partitions whose files changed (key,
 * size, version) or that hold a row at or after its as-of, reading them alone (`dt IN (...)`,
 * their files only), and adds up every part (source-check-parts.ts, as the local checks do).
 *
 * - One object per partition (`dt=<d>.json`: fingerprint, newest ts, rows, event digests): a tick
 *   writes only the parts it computed (one PUT each, usually today's), and reads each part once.
 * - The identity map is read in place by that query (normalized and grouped there; its cost is
 *   its bytes, once per tick that computes a part: the digests' query joins no key); its
 *   `identity` rows are kept in `identity.json` by its files, asked again only when they changed.
 * - When two partitions share an event digest, or no partition has a row, the window is read at
 *   once (the query of querySourceChecks).
 *
 * Nothing kept names a person, a user id or an event id: counts, sources and 64-bit digests.
 * The rows are those of the query over the whole window (test/checks runs each test both ways).
 */
export class KeptSourceChecks implements SourceCheckSource {
  constructor(private readonly ports: KeptSourceChecksPorts) {}

  /** The rows of the source checks as of `asOf` over the ports' listing (`lake` is not read). */
  async rows(asOf: Date, _lake?: LakeView): Promise<SourceCheckRow[]> {
    const { engine } = this.ports;
    const listed = await this.ports.lake();
    const window = sourceCheckWindow(asOf);
    const inWindow = listed.events.filter((f) => f.dt !== undefined && f.dt >= window.partitions.from && f.dt <= window.partitions.to);
    const partitions = [...new Set(inWindow.map((f) => f.dt as string))].sort();
    const whole = async () =>
      readSourceCheckRows(await engine.rows(compileSourceChecks({ asOf, lake: listed.relations, dialect: engine.dialect }).sql));
    if (partitions.length === 0) return whole();
    const windowBytes = inWindow.reduce((sum, f) => sum + f.size, 0);
    if (windowBytes > (this.ports.maxWindowBytes ?? Number.POSITIVE_INFINITY)) return whole();
    const identityFiles = JSON.stringify(fileKeys(listed.identities));
    const identity = await this.identityRows(listed.relations.identities, identityFiles);
    const keys = inPlace(listed.relations.identities, engine);
    const filesOf = (partition: string) => inWindow.filter((f) => f.dt === partition);
    const fingerprint = (partition: string) => {
      const request = {
        asOf: partAsOf(asOf),
        lake: NAMED,
        dialect: engine.dialect,
        identityKeys: inPlace(NAMED.identities, engine),
        parts: [partition],
      };
      const named = compileSourceChecks(request);
      const sql = [named.sql, named.newest, digestsSql(request, this.ports.eventKey)];
      return sha256(JSON.stringify({ engine: engine.name, files: fileKeys(filesOf(partition)), identities: identityFiles, sql }));
    };
    const found = partitions.map((partition) => ({ partition, fingerprint: fingerprint(partition) }));
    const kept = await Promise.all(found.map((f) => this.keptPart(asOf, f.partition, f.fingerprint)));
    const missing = found.filter((_, i) => kept[i] === undefined);
    const computed = missing.length === 0 ? new Map<string, WindowPart>() : await this.computeParts(asOf, listed, keys, missing, filesOf);
    const parts = found.map((f, i) => kept[i] ?? (computed.get(f.partition) as WindowPart));
    const checkedKey = `${this.ports.prefix}checked.json`;
    const checkedBytes = await this.ports.blobs.get(checkedKey);
    const checked = new Set(checkedBytes === undefined ? [] : (JSON.parse(new TextDecoder().decode(checkedBytes)) as string[]));
    const added = windowOfParts(parts, checked);
    if (added?.nowChecked !== undefined) await this.ports.blobs.put(checkedKey, `${JSON.stringify(added.nowChecked)}\n`);
    if (added !== undefined) await this.dropPartsBefore(partitions[0] as string);
    const events = added?.rows ?? (await whole()).filter((row) => row.grain !== 'identity');
    return [...events, ...identity];
  }

  /** The `identity` rows of the map as its files are, kept by them; asked again when they changed. */
  private async identityRows(identities: string, files: string): Promise<readonly SourceCheckRow[]> {
    const sql = compileIdentityChecks(this.ports.engine.dialect, identities);
    const fingerprint = sha256(
      JSON.stringify({ engine: this.ports.engine.name, files, sql: compileIdentityChecks(this.ports.engine.dialect, NAMED.identities) }),
    );
    const key = `${this.ports.prefix}identity.json`;
    const bytes = await this.ports.blobs.get(key);
    const record = bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as KeptIdentity);
    if (record?.fingerprint === fingerprint) return record.rows;
    const rows = readSourceCheckRows(await this.ports.engine.rows(sql));
    await this.ports.blobs.put(key, `${JSON.stringify({ fingerprint, rows } satisfies KeptIdentity)}\n`);
    return rows;
  }

  /** A partition's kept part, when it was computed from these files for this day and every row of it is before T. */
  private async keptPart(asOf: Date, partition: string, fingerprint: string): Promise<WindowPart | undefined> {
    const bytes = await this.ports.blobs.get(`${this.ports.prefix}dt=${partition}.json`);
    if (bytes === undefined) return undefined;
    let record: KeptPart;
    try {
      record = JSON.parse(new TextDecoder().decode(bytes)) as KeptPart;
    } catch {
      return undefined;
    }
    if (record.fingerprint !== fingerprint || (record.newest_ms !== null && record.newest_ms >= asOf.getTime())) return undefined;
    const keys = typeof record.keys === 'string' ? keysOfText(record.keys) : undefined;
    if (keys === undefined) return undefined;
    return { id: `${fingerprint}:${sha256(record.keys)}`, rows: record.rows, keys, kept: true };
  }

  /** The parts of these partitions from one query over their files alone; each kept when every row of it is before T. */
  private async computeParts(
    asOf: Date,
    listed: ListedSource,
    identityKeys: IdentityKeyRelation,
    partitions: readonly { readonly partition: string; readonly fingerprint: string }[],
    filesOf: (partition: string) => readonly ListedFile[],
  ): Promise<Map<string, WindowPart>> {
    const { engine } = this.ports;
    const names = partitions.map((p) => p.partition);
    const events = await this.ports.eventsOf(names.flatMap(filesOf));
    const request: SourceCheckRequest = {
      asOf,
      lake: { ...listed.relations, events },
      dialect: engine.dialect,
      identityKeys,
      parts: names,
    };
    const compiled = compileSourceChecks(request);
    const byPart = <T>(records: readonly Record<string, unknown>[], column: string, read: (r: Record<string, unknown>) => T) => {
      const grouped = new Map<string, T[]>(names.map((name) => [name, []]));
      for (const record of records) grouped.get(String(record[column]))?.push(read(record));
      return grouped;
    };
    const keyRows = this.ports.keyRows ?? ((sql: string) => engine.rows(sql));
    const rows = byPart(await engine.rows(compiled.sql), 'part', (record) => record);
    const newest = byPart(await engine.rows(compiled.newest), 'dt', (record) => record.newest_ms);
    const keys = byPart(await keyRows(digestsSql(request, this.ports.eventKey)), 'dt', (record) =>
      BigInt.asUintN(64, BigInt(record.key as bigint | string)),
    );
    const parts = new Map<string, WindowPart>();
    for (const { partition, fingerprint } of partitions) {
      const latest = newest.get(partition)?.[0];
      const newestMs = latest === null || latest === undefined ? null : Number(latest);
      const sorted = BigUint64Array.from(keys.get(partition) ?? []).sort();
      const part: KeptPart = {
        fingerprint,
        newest_ms: newestMs,
        rows: readSourceCheckRows(rows.get(partition) ?? []),
        keys: keysText(sorted),
      };
      if (newestMs === null || newestMs < asOf.getTime())
        await this.ports.blobs.put(`${this.ports.prefix}dt=${partition}.json`, `${JSON.stringify(part)}\n`);
      parts.set(partition, { id: `${fingerprint}:${sha256(part.keys)}`, rows: part.rows, keys: sorted, kept: false });
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

/** Files as a fingerprint names them, in key order. */
function fileKeys(files: readonly ListedFile[]): string[][] {
  return [...files].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((f) => [f.key, String(f.size), f.version]);
}
