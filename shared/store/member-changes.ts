import { compareByteOrder, isUniqueInByteOrder } from './parquet-members-codec.ts';

/** Members that entered and exited since the previous version, each list in the order given. */
export function changes(current: readonly string[], previous: readonly string[] | undefined): { entered: string[]; exited: string[] } {
  if (!previous) return { entered: [...current], exited: [] };
  // Versions hold members unique and in byte order: one merge of the two lists, no sets.
  if (isUniqueInByteOrder(current) && isUniqueInByteOrder(previous)) return mergedChanges(current, previous);
  const before = new Set(previous);
  const now = new Set(current);
  return {
    entered: current.filter((id) => !before.has(id)),
    exited: previous.filter((id) => !now.has(id)),
  };
}

/** {@link changes} of two lists each unique and in byte order, by walking both once. */
function mergedChanges(current: readonly string[], previous: readonly string[]): { entered: string[]; exited: string[] } {
  const entered: string[] = [];
  const exited: string[] = [];
  let i = 0;
  let j = 0;
  while (i < current.length && j < previous.length) {
    const now = current[i] as string;
    const before = previous[j] as string;
    const order = now === before ? 0 : compareByteOrder(now, before);
    if (order === 0) {
      i++;
      j++;
    } else if (order < 0) {
      entered.push(now);
      i++;
    } else {
      exited.push(before);
      j++;
    }
  }
  for (; i < current.length; i++) entered.push(current[i] as string);
  for (; j < previous.length; j++) exited.push(previous[j] as string);
  return { entered, exited };
}
