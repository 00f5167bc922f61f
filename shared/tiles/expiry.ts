import { DAY_MS, dayOf, splitWindow } from './day-split.ts';
import { type TileFingerprint, tileStatus } from './fingerprint.ts';
import { type MeasureUse, readsRaw } from './measures.ts';

/**
 * Expiry of old tiles (issue 14). Days before the first day a refresh still reads per day are
 * folded into one rollup tile (`ROLLUP_DAY`): count, sum and its exactness columns added up,
 * distinct values unioned, the latest winner kept, presence any. Its rows lie before every real
 * day, so the uses that read all history (no window, `before`, the population's presence) read the
 * rollup with the days after it, and the bounded uses, which start at a real day, never read it.
 */

/** The day of the rollup tile: before every real day, so all-history reads include it and windows do not. */
export const ROLLUP_DAY = '0000-01-01';

/**
 * Days are folded once at least this many have expired: folding rewrites the whole rollup, so a
 * daily refresh rewrites it once a week rather than every day (a day waiting to be folded is
 * simply kept one more week).
 */
export const FOLD_BATCH_DAYS = 7;

/** What decides how far back a refresh at `asOf` reads single tile days. */
export interface ExpiryRequest {
  /** Every use of the refresh at its as-of instant (leaves and metrics). */
  readonly uses: readonly MeasureUse[];
  readonly asOf: number;
  /** Days before T's day kept as single days even when no window needs them (the config's `tiles.retention_days`). */
  readonly retentionDays?: number;
}

/** What a refresh asks of a store's expiry: where single days start, and what the rollup must hold. */
export interface TileExpiry {
  /** The first day read as a day of its own ({@link firstTileDayNeeded}); the days before it may be folded. */
  readonly keepFrom: string;
  /**
   * The measure ids read over all history (no window, `before`): the rollup must hold them for
   * every day folded into it (presence always is). Other measures never read the rollup.
   */
  readonly rollupMeasures: readonly string[];
}

/** The expiry of a refresh: {@link firstTileDayNeeded} and the measures it reads over all history. */
export function tileExpiry(request: ExpiryRequest): TileExpiry {
  // The measures read raw over their window (earliest, date operators, sequence steps) have no tiles to keep or fold.
  const tiled = { ...request, uses: request.uses.filter((use) => !readsRaw(use.measure) && !use.step) };
  const allHistory = tiled.uses.filter((use) => use.range.from === undefined).map((use) => use.measure.id);
  return { keepFrom: firstTileDayNeeded(tiled), rollupMeasures: [...new Set(allHistory)].sort() };
}

/**
 * The first tile day (YYYY-MM-DD) the refresh must find as a day of its own; the days before it may
 * be folded into the rollup. It is the earliest of: the first whole day of every bounded window
 * (its tiles are read day by day); the end of the whole days of every all-history window (the
 * rollup must hold none of the days after it); T's day (the population reads every day before it);
 * and T's day minus the retention.
 */
export function firstTileDayNeeded(request: ExpiryRequest): string {
  const today = Math.floor(request.asOf / DAY_MS) * DAY_MS;
  let first = today - (request.retentionDays ?? 0) * DAY_MS;
  for (const { range, step } of request.uses) {
    if (step) continue; // read raw, never from tiles
    const whole = splitWindow(range).wholeDays;
    if (whole === undefined) continue;
    first = Math.min(first, whole.from ?? whole.to);
  }
  return dayOf(first);
}

/** The days of `days` a refresh reading from `keepFrom` no longer reads one by one (sorted). */
export const expiredDays = (days: readonly string[], keepFrom: string): string[] => days.filter((day) => day < keepFrom).sort();

/** What a store's rollup holds: every day before `until`, each as its fingerprint said when it was folded. */
export interface RollupContents {
  readonly until: string;
  readonly fingerprints: readonly TileFingerprint[];
}

/** Whether a refresh may read the rollup at all: it reads no folded day on its own. */
export const rollupUsable = (rollup: RollupContents, expiry: TileExpiry | undefined): expiry is TileExpiry =>
  expiry !== undefined && expiry.keepFrom >= rollup.until;

/**
 * Whether the folded days are as they were folded: the same days (the lake's days did not change),
 * each with the same inputs and contested ids, and holding every measure read over all history
 * (`current`: the fingerprints the folded days' tiles would have now). Otherwise the rollup is
 * dropped and its days built again.
 */
export function foldedUnchanged(rollup: RollupContents, current: readonly TileFingerprint[], expiry: TileExpiry): boolean {
  const stored = new Map(rollup.fingerprints.map((f) => [f.day, f]));
  return (
    current.length === stored.size &&
    current.every((f) => tileStatus(stored.get(f.day), { ...f, measures: [...expiry.rollupMeasures] }).status === 'fresh')
  );
}
