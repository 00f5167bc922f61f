import { robustSpread, zAgainst } from './robust-z.ts';

/** How a history check judges each version against the versions before it. */
export interface HistoryRule {
  /** |robust z| beyond which a version is out of its history (the warn level). */
  readonly level: number;
  /** How many of the latest earlier versions a version is judged against. */
  readonly window: number;
  /** The fewest earlier versions a version is judged at. */
  readonly minHistory: number;
  /** The least spread at a median (see robustZ). */
  readonly noise?: (center: number) => number;
}

/** The newest value judged against its history, and whether its shift was already reported. */
export interface ShiftJudgement {
  /** The newest value's robust z against the `window` values before it. */
  readonly z: number;
  /** How many earlier versions the newest was judged against (fewer than `minHistory`: not judged). */
  readonly judgedAgainst: number;
  /**
   * When the newest is out of its history on the side an earlier version already was, and within `level` spreads of
   * the value reported then: how many versions back that report was. Every version in between stayed out on that side.
   */
  readonly reportedVersionsBack?: number;
}

/**
 * Judges the last of `values` (oldest first) against the versions before it, once per shift.
 *
 * A cohort that really changed (8 members joined, its value sum up 30%) stays out of its history until half of the
 * window holds the new level: judged by the z alone, it warned on every version for two weeks (10 of the 32 value
 * warnings of a 14-day replay). Here each version is judged in turn against its own earlier versions: out of the
 * history starts a shift, which is reported; later versions out on the same side repeat it, and are reported again
 * only when they move `level` spreads beyond the value last reported (a drift that goes on warns again, step by
 * step). A version back within its history ends the shift.
 */
export function judgeOncePerShift(values: readonly number[], rule: HistoryRule): ShiftJudgement {
  let reported: { index: number; value: number; side: number } | undefined;
  let last: ShiftJudgement = { z: 0, judgedAgainst: 0 };
  values.forEach((value, index) => {
    const history = values.slice(Math.max(0, index - rule.window), index);
    if (history.length < rule.minHistory) {
      reported = undefined;
      last = { z: 0, judgedAgainst: history.length };
      return;
    }
    const spread = robustSpread(history, rule.noise);
    const { scale } = spread;
    const z = zAgainst(value, spread);
    last = { z, judgedAgainst: history.length };
    if (Math.abs(z) <= rule.level) {
      reported = undefined;
      return;
    }
    const side = Math.sign(z);
    const repeats =
      reported !== undefined &&
      reported.side === side &&
      (scale === 0 ? value === reported.value : Math.abs(value - reported.value) <= rule.level * scale);
    if (repeats && reported) last = { ...last, reportedVersionsBack: index - reported.index };
    else reported = { index, value, side };
  });
  return last;
}
