/** Edits (insert, delete, replace) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length] as number;
}

/**
 * The known name `given` is most likely a typo of: at most two edits away, and fewer edits than half
 * its letters (`x` suggests nothing); undefined when none is.
 */
export function nearestName(given: string, known: readonly string[]): string | undefined {
  return known
    .map((name) => ({ name, edits: editDistance(given, name) }))
    .filter(({ edits }) => edits <= 2 && edits * 2 < given.length)
    .sort((a, b) => a.edits - b.edits)[0]?.name;
}
