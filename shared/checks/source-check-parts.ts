import { COUNT_COLUMNS, type SourceCheckRow } from './source-rows.ts';
import { DAY_MS } from './source-window.ts';

/**
 * The source checks' rows of a window from the rows of each of its `dt` partitions (the query
 * with `partition`), when no event (source, event_id) has a valid copy in two partitions
 * ({@link shareAKey}): then every group of the query's first aggregation lies in one partition,
 * so each count of a row is the sum of the partitions' counts and `latest_ms` their maximum.
 * `identity` rows are not the partitions' business and are left out.
 */
export function addParts(parts: readonly (readonly SourceCheckRow[])[]): SourceCheckRow[] {
  const added = new Map<string, SourceCheckRow>();
  for (const rows of parts) {
    for (const row of rows) {
      if (row.grain === 'identity') continue;
      const key = JSON.stringify([row.grain, row.source, row.event_day]);
      const before = added.get(key);
      if (before === undefined) {
        added.set(key, row);
        continue;
      }
      const sums = Object.fromEntries(COUNT_COLUMNS.map((column) => [column, before[column] + row[column]]));
      const latest =
        before.latest_ms === null ? row.latest_ms : row.latest_ms === null ? before.latest_ms : Math.max(before.latest_ms, row.latest_ms);
      added.set(key, { ...before, ...sums, latest_ms: latest });
    }
  }
  return [...added.values()];
}

/** Whether a value is in a sorted array (binary search). */
function holds(sorted: BigUint64Array, value: bigint): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = sorted[middle] as bigint;
    if (at === value) return true;
    if (at < value) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

/**
 * Whether two of the partitions' key digests (each sorted ascending, no repeats) share a value:
 * then an event may have copies in two partitions and the parts cannot simply be added. Equal
 * events have equal digests, so no shared digest means no shared event (a shared digest may be
 * a collision; the caller then reads the whole window at once, which is exact either way).
 * `checked` are partitions already known to share nothing among themselves: only the others are
 * compared with every partition.
 */
export function shareAKey(keys: readonly BigUint64Array[], checked: ReadonlySet<number> = new Set()): boolean {
  if ((keys.length - checked.size) * 2 > keys.length) return repeatsAValue(keys);
  for (let i = 0; i < keys.length; i += 1) {
    if (checked.has(i)) continue;
    const mine = keys[i] as BigUint64Array;
    for (let j = 0; j < keys.length; j += 1) {
      if (j === i) continue;
      const other = keys[j] as BigUint64Array;
      const [small, large] = mine.length <= other.length ? [mine, other] : [other, mine];
      for (const value of small) if (holds(large, value)) return true;
    }
  }
  return false;
}

/** Whether a value is in two of the arrays (each without repeats): all of them sorted together. */
function repeatsAValue(keys: readonly BigUint64Array[]): boolean {
  const all = new BigUint64Array(keys.reduce((sum, k) => sum + k.length, 0));
  let at = 0;
  for (const k of keys) {
    all.set(k, at);
    at += k.length;
  }
  all.sort();
  for (let i = 1; i < all.length; i += 1) if (all[i] === all[i - 1]) return true;
  return false;
}

/** One partition's part of the window: its rows and event digests, and whether it was read from a kept part. */
export interface WindowPart {
  /** What the part was computed from and its digests: a part with the same id holds the same digests. */
  readonly id: string;
  readonly rows: readonly SourceCheckRow[];
  /** Digests of its valid events in the window, sorted ascending, no repeats. */
  readonly keys: BigUint64Array;
  readonly kept: boolean;
}

/**
 * The window's rows added up from its parts; undefined when two of them share an event digest (the
 * caller reads the window at once, as it does when `rows` is absent: no part has a row).
 * `checked` are the ids of parts the last run found sharing nothing (kept ones among them are not
 * compared among themselves); `nowChecked` is the list to keep for the next run, absent when unchanged.
 */
export function windowOfParts(
  parts: readonly WindowPart[],
  checked: ReadonlySet<string>,
): { readonly rows?: SourceCheckRow[]; readonly nowChecked?: string[] } | undefined {
  const known = new Set(parts.flatMap((part, i) => (part.kept && checked.has(part.id) ? [i] : [])));
  if (
    shareAKey(
      parts.map((p) => p.keys),
      known,
    )
  )
    return undefined;
  const nowChecked = known.size === parts.length ? {} : { nowChecked: parts.map((p) => p.id) };
  const rows = addParts(parts.map((p) => p.rows));
  return rows.some((row) => row.grain === 'lake') ? { rows, ...nowChecked } : nowChecked;
}

/** A partition's event digests as kept text: sorted 64-bit values in the machine's byte order, base64, a newline. */
export const keysText = (sorted: BigUint64Array): string =>
  `${Buffer.from(sorted.buffer, sorted.byteOffset, sorted.byteLength).toString('base64')}\n`;

/** The digests of {@link keysText}; undefined when the text is no whole number of 64-bit values. */
export function keysOfText(text: string): BigUint64Array | undefined {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 8 !== 0) return undefined;
  return new BigUint64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/**
 * The as-of a part is compiled for: the first instant of T's day (its midnight when T is one). A
 * part does not depend on T itself once every row of it is before T, so its fingerprint names T's day.
 */
export function partAsOf(asOf: Date): Date {
  const endMs = asOf.getTime();
  const midnight = Math.floor(endMs / DAY_MS) * DAY_MS;
  return new Date(endMs === midnight ? endMs : midnight + 1);
}

/** Event digests as they are read, 8 bytes each (no BigInt kept per event). */
export class DigestList {
  private values = new BigUint64Array(1024);
  private length = 0;

  push(value: bigint): void {
    if (this.length === this.values.length) {
      const grown = new BigUint64Array(this.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = value;
    this.length += 1;
  }

  /** The digests read, sorted ascending (repeats are the caller's: the query returns each once). */
  sorted(): BigUint64Array {
    return this.values.slice(0, this.length).sort();
  }
}
