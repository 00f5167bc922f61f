import { FILTERED_MAX_RANGES, filterHeld, maybeIn, readFilter } from './digest-filter.ts';
import { batchesOf } from './batches-of.ts';
import { type DigestsRecord, type KeptLookup, keptLookup, type RangeReader } from './part-digests.ts';

/** How {@link keptHoldAny} reads kept parts. */
export interface KeptReads<P> {
  /** A kept object whole. */
  readonly get: (key: string) => Promise<Uint8Array | undefined>;
  /** Some bytes of a kept object. */
  readonly read: RangeReader;
  /** Called with the first kept part (in order) whose digests do not hold together. */
  readonly broken: (part: P) => Promise<void>;
}

/**
 * Whether any of these values (sorted ascending) may be among the kept parts' digests: false when
 * none is; true when one is, or a part does not hold together (reported, the first in order); the
 * caller then reads the window at once.
 *
 * The parts are read a few at a time, chosen by what each holds while read, at most `budget`
 * digests' worth of memory (HELD_BYTES_A_DIGEST, 19 bytes, what a digest of a part read whole holds;
 * a larger part alone). First their filters (a 16th of a whole part each: filterHeld), each leaving
 * the values it cannot rule out; then the buckets of those values, or of every value for a part
 * whose filter is missing, not as recorded or none, each part weighed by the ranges it will read
 * (keptLookup: up to the part whole). Before, parts went by their digest counts whether or not they
 * had a filter: at 10M digests a part, one part at a time.
 */
export async function keptHoldAny<P>(
  parts: readonly P[],
  recordOf: (part: P) => DigestsRecord,
  probes: BigUint64Array,
  kept: KeptReads<P>,
  budget: number,
): Promise<boolean> {
  // The values each part's filter leaves (undefined: no filter to believe), a copy each (maybeIn).
  const maybe: (BigUint64Array | undefined)[] = [];
  for (const batch of batchesOf(parts, (p) => filterHeld(recordOf(p).filter), budget)) {
    const left = await Promise.all(
      batch.map(async (part) => {
        const { filter } = recordOf(part);
        const read = filter === undefined ? undefined : await readFilter(kept.get, filter);
        return read === undefined ? undefined : maybeIn(read, probes);
      }),
    );
    maybe.push(...left);
  }
  // Planned in order (an index decoded each) and read when the next would pass the budget.
  let batch: { readonly part: P; readonly lookup: KeptLookup }[] = [];
  let held = 0;
  const readBatch = async (): Promise<boolean> => {
    const found = await Promise.all(batch.map(({ lookup }) => lookup.run()));
    const broken = found.indexOf(undefined);
    if (broken >= 0) await kept.broken((batch[broken] as { part: P }).part);
    batch = [];
    held = 0;
    return found.some((f) => f !== false);
  };
  for (const [i, part] of parts.entries()) {
    // A part whose filter rules every value out is still planned: a record that does not hold together is reported, as without filters.
    const left = maybe[i];
    const lookup =
      left === undefined ? keptLookup(kept.read, recordOf(part), probes) : keptLookup(kept.read, recordOf(part), left, FILTERED_MAX_RANGES);
    if (batch.length > 0 && held + lookup.held > budget && (await readBatch())) return true;
    batch.push({ part, lookup });
    held += lookup.held;
  }
  return batch.length > 0 && readBatch();
}
