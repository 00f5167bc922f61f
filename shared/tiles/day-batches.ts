import { DAY_MS, dayOf } from './day-split.ts';

/**
 * Splits days (YYYY-MM-DD) into batches built by one query each, in date order: each batch the
 * longest run of the next days whose input stays within `bound` bytes. A batch's input is every
 * `dt` partition from the day before its first day to the day after its last (a build query reads
 * that range, days missing in between included), each partition once. A day whose own input passes
 * the bound is a batch alone. Exact to split: a day's tile rows depend on its own events, the
 * contested ids (computed before, from the index) and nothing else of the batch.
 */
export function dayBatches(days: readonly string[], partitionBytes: (partition: string) => number, bound: number): string[][] {
  const sorted = [...new Set(days)].sort();
  const batches: string[][] = [];
  let batch: string[] = [];
  // The bytes of the batch's input range, and the last partition counted in it.
  let bytes = 0;
  let through = '';
  for (const day of sorted) {
    if (batch.length > 0) {
      const added = rangeBytes(next(through), next(day), partitionBytes);
      if (bytes + added <= bound) {
        batch.push(day);
        bytes += added;
        through = next(day);
        continue;
      }
      batches.push(batch);
    }
    batch = [day];
    bytes = rangeBytes(shift(day, -1), next(day), partitionBytes);
    through = next(day);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** The day `n` days after `day`. */
const shift = (day: string, n: number) => dayOf(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS);

const next = (day: string) => shift(day, 1);

/** The bytes of the partitions `dt=from` .. `dt=to` (none when `from` is after `to`). */
function rangeBytes(from: string, to: string, partitionBytes: (partition: string) => number): number {
  let bytes = 0;
  for (let day = from; day <= to; day = next(day)) bytes += partitionBytes(day);
  return bytes;
}
