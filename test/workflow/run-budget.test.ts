import { describe, expect, it } from 'vitest';
import { memberEventsLeft } from '../../shared/deliver/run-budget.ts';

describe('memberEventsLeft (the member events limit is per run)', () => {
  const moves = {
    status: ['published', 'held', 'published', 'published', 'unchanged', 'published'],
    entered: [4, 50, 7, 1, 0, 2],
    exited: [1, 0, 0, 0, 0, 0],
  };

  it('leaves what the published versions before used, each counted only when it fit in what was left', () => {
    // max 10: 5 fit (5 left), held 50 sends none, 7 does not fit (pointer), 1 fits (4 left), unchanged none, then 2 fits
    expect([0, 1, 2, 3, 4, 5, 6].map((index) => memberEventsLeft(moves, index, 10))).toEqual([10, 5, 5, 5, 4, 4, 2]);
  });

  it('gives the whole limit to the first version, and nothing is used with a limit of 0', () => {
    expect(memberEventsLeft(moves, 0, 3)).toBe(3);
    expect(memberEventsLeft(moves, 6, 0)).toBe(0);
  });
});
