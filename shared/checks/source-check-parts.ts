import { COUNT_COLUMNS, type SourceCheckRow } from './source-rows.ts';

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
