/**
 * Benjamini-Hochberg adjusted p-values (Benjamini & Hochberg 1995, J. R. Statist. Soc. B 57:289-300):
 * for the i-th smallest of m p-values, min over j >= i of p(j) m / j, capped at 1. Rejecting every
 * hypothesis whose adjusted p-value is at most q controls the false discovery rate at q.
 * Returns the adjusted values in the order given.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  for (const p of pValues) if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values lie in [0, 1], got ${p}`);
  const order = pValues.map((p, index) => ({ p, index })).sort((x, y) => x.p - y.p || x.index - y.index);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const { p, index } = order[rank - 1] as { p: number; index: number };
    running = Math.min(running, (p * m) / rank);
    adjusted[index] = running;
  }
  return adjusted;
}
