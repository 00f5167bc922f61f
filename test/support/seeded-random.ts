/**
 * A small deterministic generator (a linear congruential one): numbers in [0, 1), the same for the
 * same seed on every run, so a test that draws its lake or catalog from it writes the same each time.
 */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}
