/**
 * The mark of tile days built from the lake while someone is forgotten and not screened yet
 * (erasure, TileStore.refresh's `screen`): a JSON list of days, `tiles/unscreened.json` in either
 * world. Written before a build, removed by the screen after it.
 */

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The days a parsed mark holds (YYYY-MM-DD strings); none when it is not such a list. */
export const markedDays = (mark: unknown): string[] =>
  Array.isArray(mark) ? mark.filter((day): day is string => typeof day === 'string' && DAY.test(day)) : [];

/**
 * The mark to write so that it holds `days` too (sorted, each once), or undefined when the mark
 * exists (`marked` defined) and holds them all already.
 */
export function markAdding(marked: readonly string[] | undefined, days: readonly string[]): string[] | undefined {
  if (marked !== undefined && days.every((day) => marked.includes(day))) return undefined;
  return [...new Set([...(marked ?? []), ...days])].sort();
}
