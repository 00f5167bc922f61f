import { describe, expect, it } from 'vitest';
import { changes } from '../../shared/store/member-changes.ts';
import { compareByteOrder, uniqueInByteOrder } from '../../shared/store/parquet-members-codec.ts';

/** The changes by sets, as a reference: what entered and what exited, in the order given. */
const bySets = (current: readonly string[], previous: readonly string[]) => ({
  entered: current.filter((id) => !previous.includes(id)),
  exited: previous.filter((id) => !current.includes(id)),
});

/** Ids around the places where UTF-16 order and byte order differ. */
const POOL = ['', 'a', 'b', 'ab', 'Z', 'é', '\ufb00', '\uffff', '😀', '😁', 'a😀', 'a\ufb00', ' x', '\u0000'];

function pick(seed: number): string[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  return POOL.filter(() => next() % 2 === 0);
}

describe('entered and exited between two versions', () => {
  it('walks two lists in byte order once and finds what sets find, across byte-order corner cases', () => {
    for (let seed = 1; seed <= 200; seed++) {
      // Prepare
      const current = uniqueInByteOrder(pick(seed));
      const previous = uniqueInByteOrder(pick(seed * 7 + 3));

      // Act
      const moved = changes(current, previous);

      // Assess
      expect(moved).toEqual(bySets(current, previous));
    }
  });

  it('still finds the changes of lists that are not in byte order, in the order given', () => {
    // Act
    const moved = changes(['c', 'a', 'b', 'a'], ['d', 'b', 'e']);

    // Assess
    expect(moved).toEqual({ entered: ['c', 'a', 'a'], exited: ['d', 'e'] });
  });

  it('has everyone entered when there is no previous version', () => {
    expect(changes(['a', 'b'], undefined)).toEqual({ entered: ['a', 'b'], exited: [] });
  });
});

describe('unique ids in byte order', () => {
  it('returns a copy of a list already in order, and sorts and deduplicates any other', () => {
    // Prepare
    const ordered = ['a', 'b', '\ufb00', '😀'];

    // Act
    const same = uniqueInByteOrder(ordered);
    const sorted = uniqueInByteOrder(['😀', 'b', '\ufb00', 'a', 'b']);

    // Assess
    expect(same).toEqual(ordered);
    expect(same).not.toBe(ordered);
    expect(sorted).toEqual(ordered);
    expect([...sorted].sort(compareByteOrder)).toEqual(sorted);
  });
});
