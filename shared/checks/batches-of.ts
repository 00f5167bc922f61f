/**
 * Items in order, cut into batches of at most `budget` of their size each (a larger item alone).
 * The source checks cut partitions by bytes of files (the parts of each batch computed by one query:
 * every row of the parts' statement is its partition's alone, so the parts are the same however
 * batched) and kept parts by digests (those a tick reads at once).
 */
export function batchesOf<T>(items: readonly T[], sizeOf: (item: T) => number, budget: number): T[][] {
  const batches: T[][] = [];
  let total = 0;
  for (const item of items) {
    const size = sizeOf(item);
    const last = batches.at(-1);
    if (last !== undefined && total + size <= budget) {
      last.push(item);
      total += size;
    } else {
      batches.push([item]);
      total = size;
    }
  }
  return batches;
}
