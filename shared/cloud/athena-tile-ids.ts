import type { S3Client } from '@aws-sdk/client-s3';
import { athenaDialect } from '../compiler/athena-dialect.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import { inParallel } from './lake-manifests.ts';
import {
  TILE_CONTESTED_IDS_KEY,
  TILE_CONTESTED_PREFIX,
  TILE_IDS_DIGESTS_PREFIX,
  TILE_IDS_FINGERPRINTS_PREFIX,
  TILE_IDS_PREFIX,
} from '../bucket-layout.ts';
import { addedInputs, type InputFile, sameInputs, tilePartitions } from '../tiles/fingerprint.ts';
import { contestedFromIndexSql, dayIdsSql } from '../tiles/id-index-sql.ts';
import { contestedCopiesSql } from '../tiles/tile-sql.ts';
import type { ListedLake } from './athena-engine.ts';
import { DigestCollector, digestsOfText, digestsText, holdsACandidate } from './athena-tile-id-digests.ts';
import { deleteObjects, deletePrefix, objectsUnder } from './s3-prefix.ts';
import type { S3BlobStore } from './s3-blob-store.ts';

/** What an {@link AthenaTileIds} runs on (the tile store's own). */
export interface AthenaTileIdsPorts {
  readonly s3: S3Client;
  readonly bucket: string;
  /** The snapshots bucket as blobs: the index days' fingerprints and the contested ids. */
  readonly blobs: S3BlobStore;
  /** The qualified `tiles_ids` and `tiles_contested` tables. */
  readonly idsTable: string;
  readonly contestedTable: string;
  /** `INSERT INTO tiles_ids (event_id, day) SELECT ... FROM (<sql>) WHERE day IN (<days>)`. */
  readonly insertIds: (sql: string, days: readonly string[]) => string;
  /** `INSERT INTO tiles_contested (...) SELECT ... FROM (<sql>)`. */
  readonly insertContested: (sql: string) => string;
  /** Groups sorted days for INSERTs (nearby days together, at most 100 partitions each). */
  readonly batches: (days: readonly string[]) => string[][];
  /**
   * From this many bytes of index files on, a derivation reads only the days the digests pick;
   * below, the whole index (one query instead of two, each billed at least Athena's 10 MB).
   * @default ATHENA_MIN_BILLED_BYTES
   */
  readonly digestFromBytes?: number;
}

/** Athena bills every query at least 10 MB scanned. */
export const ATHENA_MIN_BILLED_BYTES = 10 * 1024 * 1024;

/** How a refresh runs its statements (its scanned bytes counted). */
export interface RefreshQueries {
  readonly run: (sql: string) => Promise<void>;
  /** Rows of a query. */
  readonly rows: (sql: string) => Promise<readonly (readonly (string | null | undefined)[])[]>;
  /**
   * Rows of a query that may have millions (the ids of index days), in batches as they stream from
   * its result file: each batch is used before the next is read. @default rows, as one batch
   */
  readonly manyRows?: (sql: string) => AsyncIterable<readonly (readonly (string | null | undefined)[])[]>;
}

/** What an index day was built from. */
interface IndexFingerprint {
  readonly day: string;
  readonly inputs: readonly InputFile[];
}

/**
 * The index of counted ids of the Athena tile store (issue 14), the cloud twin of the local one
 * (id-index-sql.ts): the Glue table `tiles_ids` (`event_id`, partition `day`, Parquet under
 * `tiles/ids/day=<d>/`), one fingerprint per indexed day (`tiles/ids-fingerprints/<d>.json`:
 * the events files of partitions d-1..d+1 in the run's listing), and `tiles/contested.json`, the
 * contested ids per day. Every day the lake can hold valid events on is indexed; a refresh
 * re-indexes only the days whose files changed (a day whose partitions only gained files holding
 * no valid event of it is kept, as tile days are), and only then re-derives the contested ids
 * from the index (never the lake) and rewrites the contested copies from the partitions that can
 * hold them. A refresh where no index day changed reads nothing at all.
 *
 * The contested ids are derived from the index days that can hold them, not the whole `event_id`
 * column: the re-indexed days, the days of the ids contested before (`contested.json` lists every
 * day of each), and the other days whose digests (`tiles/ids-digests/<d>.txt`,
 * athena-tile-id-digests.ts) share one with the re-indexed days' ids. A realtime tick that
 * re-indexed today thus reads today's index and the few days its ids meet, whatever the history.
 * While the index's files stay under Athena's 10 MB billed a query, the whole index is read as
 * before (the digests' SELECT would cost another 10 MB); once past it, the undigested days get
 * their digests from one SELECT.
 * A day's digests are written after its INSERT (one SELECT of the re-indexed days' ids) and
 * deleted after its fingerprint, before its files: digests, when there, are the day's. A day
 * without them (indexed while the index was small, or before a crash) gets them from one SELECT
 * of such days' ids on the next derivation.
 *
 * Crash safety: a day's fingerprint is deleted before its digests and files and written after its INSERT;
 * `contested.json` is deleted before the copies are rewritten and written after the old copies
 * are deleted, so a run stopped midway leaves it absent, and the next refresh derives every
 * contested id from the whole index and deletes every copy file listed before its INSERT.
 */
export class AthenaTileIds {
  constructor(private readonly ports: AthenaTileIdsPorts) {}

  /**
   * Brings the index up to date for the listing `lake`; returns the contested ids with a valid
   * copy on each day. `touched`: the UTC days the valid events of added files fall on
   * (undefined: unknown, the days are re-indexed).
   */
  async refresh(
    lake: ListedLake,
    touched: (added: readonly InputFile[]) => Promise<ReadonlySet<string> | undefined>,
    sql: RefreshQueries,
  ): Promise<Map<string, string[]>> {
    const days = [...new Set(lake.events.flatMap((o) => (o.dt === undefined ? [] : tilePartitions(o.dt))))].sort();
    const changed: IndexFingerprint[] = [];
    const keepable: { current: IndexFingerprint; added: readonly InputFile[] }[] = [];
    await inParallel(days, async (day) => {
      const current = { day, inputs: inputsOf(lake, day) };
      const stored = await this.fingerprint(day);
      if (stored !== undefined && sameInputs(stored.inputs, current.inputs)) return;
      const added = stored === undefined ? undefined : addedInputs(stored.inputs, current.inputs);
      if (added !== undefined && added.length > 0) keepable.push({ current, added });
      else changed.push(current);
    });
    if (keepable.length > 0) {
      const hit = await touched(keepable.flatMap((k) => k.added));
      for (const { current } of keepable) {
        if (hit === undefined || hit.has(current.day)) changed.push(current);
        else await this.putFingerprint(current);
      }
    }
    changed.sort((a, b) => (a.day < b.day ? -1 : 1));
    const indexedBefore = await this.indexedDays();
    const gone = indexedBefore.filter((day) => !days.includes(day));
    const state = await this.contestedIds();
    if (changed.length === 0 && gone.length === 0 && state !== undefined) return new Map(Object.entries(state));

    // Without contested.json (first run, or a run stopped half-way) every indexed id is a candidate.
    const everything = state === undefined;
    await deleteObjects(this.ports.s3, this.ports.bucket, [TILE_CONTESTED_IDS_KEY], 'the contested ids');
    for (const day of gone) await this.dropDay(day);
    const rebuilt = changed.map((c) => c.day);
    for (const batch of this.ports.batches(rebuilt)) {
      for (const day of batch) await this.dropDay(day);
      await sql.run(this.ports.insertIds(dayIdsSql(athenaDialect, lake.view.relations.events, batch), batch));
      for (const day of batch) {
        const fingerprint = changed.find((c) => c.day === day);
        if (fingerprint !== undefined) await this.putFingerprint(fingerprint);
      }
    }
    // Digests are kept once the index is worth not reading whole: the re-indexed days' from one SELECT.
    const digesting = (await this.indexBytes()) >= (this.ports.digestFromBytes ?? ATHENA_MIN_BILLED_BYTES);
    const added = digesting && rebuilt.length > 0 ? await this.putDigests(rebuilt, sql) : new Map<string, BigUint64Array>();
    if (days.length === 0) {
      await deletePrefix(this.ports.s3, this.ports.bucket, TILE_CONTESTED_PREFIX, 'the contested copies');
      await this.ports.blobs.put(TILE_CONTESTED_IDS_KEY, '{}\n');
      return new Map();
    }
    const index = this.index(
      everything || !digesting
        ? days
        : await this.daysToRead(days, rebuilt, idDigestsOf([...added.values()]), Object.keys(state ?? {}), sql),
    );
    const candidates = everything
      ? `(SELECT event_id FROM ${this.index(days)} AS all_ids)`
      : `(${[
          ...(rebuilt.length === 0 ? [] : [`SELECT event_id FROM ${this.index(rebuilt)} AS new_ids`]),
          `SELECT DISTINCT event_id FROM ${this.ports.contestedTable} AS contested_before`,
        ].join(' UNION ')})`;
    const contested = contestedFromIndexSql(index, candidates);
    const byDay = new Map<string, string[]>();
    for (const [id, day] of await sql.rows(`${contested}\nORDER BY day, event_id`)) {
      if (id === null || id === undefined || day === null || day === undefined) continue;
      byDay.set(day, [...(byDay.get(day) ?? []), id]);
    }
    // The new copies are written beside the old ones (the candidates read them), which are deleted after.
    const old = await this.keysUnder(TILE_CONTESTED_PREFIX);
    const partitions = [...new Set([...byDay.keys()].flatMap(tilePartitions))].sort();
    await sql.run(
      this.ports.insertContested(contestedCopiesSql(lake.view.relations.events, `(${contested}) AS contested_days`, partitions)),
    );
    for (let i = 0; i < old.length; i += 1_000)
      await deleteObjects(this.ports.s3, this.ports.bucket, old.slice(i, i + 1_000), 'the contested copies before their rewrite');
    await this.ports.blobs.put(TILE_CONTESTED_IDS_KEY, `${JSON.stringify(Object.fromEntries(byDay), null, 2)}\n`);
    return byDay;
  }

  /**
   * The index days a derivation reads: the re-indexed ones, those of the ids contested before, and
   * the others whose digests share one with `candidates` (the re-indexed days' ids); every day when
   * that leaves none (nothing to derive from: the query finds no contested id either way).
   */
  private async daysToRead(
    days: readonly string[],
    rebuilt: readonly string[],
    candidates: BigUint64Array,
    contestedDays: readonly string[],
    sql: RefreshQueries,
  ): Promise<string[]> {
    const read = new Set([...rebuilt, ...contestedDays.filter((day) => days.includes(day))]);
    const others = days.filter((day) => !read.has(day));
    const undigested: string[] = [];
    await inParallel(others, async (day) => {
      const digests = await this.digests(day);
      if (digests === undefined) undigested.push(day);
      else if (holdsACandidate(digests, candidates)) read.add(day);
    });
    if (undigested.length > 0)
      for (const [day, digests] of await this.putDigests(undigested.sort(), sql)) if (holdsACandidate(digests, candidates)) read.add(day);
    return read.size === 0 ? [...days] : [...read].sort();
  }

  /**
   * Reads the ids of indexed `days` (one SELECT), writes each day's digests and returns them. The
   * ids are digested batch by batch as the result streams (8 bytes an id kept, not the id: about
   * 150 MB of rows at 1M ids held at once before, estimated).
   */
  private async putDigests(days: readonly string[], sql: RefreshQueries): Promise<Map<string, BigUint64Array>> {
    const collected = new Map(days.map((day) => [day, new DigestCollector()]));
    const select = `SELECT DISTINCT event_id, day FROM ${this.index(days)} AS day_ids`;
    const batches = sql.manyRows?.(select) ?? oneBatch(sql.rows(select));
    for await (const batch of batches) {
      for (const [id, day] of batch) {
        if (id !== null && id !== undefined && day !== null && day !== undefined) collected.get(day)?.add(id);
      }
    }
    const digests = new Map([...collected].map(([day, collector]) => [day, collector.sorted()] as const));
    await inParallel([...digests], ([day, sorted]) => this.ports.blobs.put(idsDigestsKey(day), digestsText(sorted)));
    return digests;
  }

  private async digests(day: string): Promise<BigUint64Array | undefined> {
    const bytes = await this.ports.blobs.get(idsDigestsKey(day));
    return bytes === undefined ? undefined : digestsOfText(new TextDecoder().decode(bytes));
  }

  /** The index entries (`event_id, day`) of `days`. */
  private index(days: readonly string[]): string {
    return `(SELECT event_id, day FROM ${this.ports.idsTable} WHERE day IN (${days.map(stringLiteral).join(', ')}))`;
  }

  private async fingerprint(day: string): Promise<IndexFingerprint | undefined> {
    const bytes = await this.ports.blobs.get(idsFingerprintKey(day));
    return bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as IndexFingerprint);
  }

  private putFingerprint(fingerprint: IndexFingerprint): Promise<void> {
    return this.ports.blobs.put(idsFingerprintKey(fingerprint.day), `${JSON.stringify(fingerprint, null, 2)}\n`);
  }

  private async contestedIds(): Promise<Record<string, string[]> | undefined> {
    const bytes = await this.ports.blobs.get(TILE_CONTESTED_IDS_KEY);
    return bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as Record<string, string[]>);
  }

  /** Deletes an index day: its fingerprint first, then its digests, then its files. */
  private async dropDay(day: string): Promise<void> {
    await deleteObjects(this.ports.s3, this.ports.bucket, [idsFingerprintKey(day)], `the index fingerprint of ${day}`);
    await deleteObjects(this.ports.s3, this.ports.bucket, [idsDigestsKey(day)], `the index digests of ${day}`);
    await deletePrefix(this.ports.s3, this.ports.bucket, `${TILE_IDS_PREFIX}day=${day}/`, `the index entries of ${day}`);
  }

  /** The days with an index fingerprint (one listing). */
  private async indexedDays(): Promise<string[]> {
    const days: string[] = [];
    for (const key of await this.keysUnder(TILE_IDS_FINGERPRINTS_PREFIX)) {
      const day = /^(\d{4}-\d{2}-\d{2})\.json$/.exec(key.slice(TILE_IDS_FINGERPRINTS_PREFIX.length))?.[1];
      if (day !== undefined) days.push(day);
    }
    return days.sort();
  }

  /** The bytes of the index's files (one listing). */
  private async indexBytes(): Promise<number> {
    let bytes = 0;
    for await (const page of objectsUnder(this.ports.s3, this.ports.bucket, TILE_IDS_PREFIX)) for (const o of page) bytes += o.size;
    return bytes;
  }

  private async keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const page of objectsUnder(this.ports.s3, this.ports.bucket, prefix)) keys.push(...page.map((o) => o.key));
    return keys;
  }
}

/** Where an index day's digests live in the snapshots bucket. */
export const idsDigestsKey = (day: string) => `${TILE_IDS_DIGESTS_PREFIX}${day}.txt`;

/** The digests of several days' as one sorted list without repeats. */
function idDigestsOf(lists: readonly BigUint64Array[]): BigUint64Array {
  const all = new Set<bigint>();
  for (const list of lists) for (const digest of list) all.add(digest);
  return BigUint64Array.from(all).sort();
}

/** A query's rows as one batch. */
async function* oneBatch<T>(rows: Promise<T>): AsyncGenerator<T> {
  yield await rows;
}

/** Where an index day's fingerprint lives in the snapshots bucket. */
export const idsFingerprintKey = (day: string) => `${TILE_IDS_FINGERPRINTS_PREFIX}${day}.json`;

/** The events files of the partitions a day reads (d-1..d+1), as the listing shows them (sorted by key). */
export function inputsOf(lake: ListedLake, day: string): InputFile[] {
  const partitions = new Set(tilePartitions(day));
  return lake.events
    .filter((o) => o.dt !== undefined && partitions.has(o.dt))
    .map((o) => ({ path: o.key, size: o.size, version: o.etag }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
