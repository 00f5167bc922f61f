import type { EvaluationRef, QueryEngine } from '../ports.ts';

/** How many person ids a mismatch names per side. */
const SHOWN_IDS = 5;

/** One cohort (or the population) whose tiled result differs from the full computation's. */
export interface TilesMismatch {
  /** The cohort id, or `population`. */
  readonly cohort: string;
  readonly full: number;
  readonly tiles: number;
  /** A few person ids only the full computation has, and only the tiles have (byte order). */
  readonly onlyFull: readonly string[];
  readonly onlyTiles: readonly string[];
}

/**
 * `verify` found the tiled query's result different from the full computation's: raised before
 * anything is published, so the run fails (and alerts) at the Tiles step.
 */
export class TilesMismatchError extends Error {
  override readonly name = 'TilesMismatchError';

  constructor(readonly mismatches: readonly TilesMismatch[]) {
    super(
      `tiles differ from the full computation in ${mismatches.length} of the checked results: ${mismatches
        .map(
          (m) =>
            `${m.cohort} (full ${m.full}, tiles ${m.tiles}; only in full: ${m.onlyFull.join(', ') || '-'}; only in tiles: ${m.onlyTiles.join(', ') || '-'})`,
        )
        .join('; ')}`,
    );
  }
}

/** The ids of `a` not in `b`, the first few in byte order (both sorted). */
function missing(a: readonly string[], b: readonly string[]): string[] {
  const other = new Set(b);
  return a.filter((id) => !other.has(id)).slice(0, SHOWN_IDS);
}

/** What verify compares: the two queries of one refresh and each cohort's column in their results. */
export interface VerifyRequest {
  readonly runId: string;
  readonly full: { readonly sql: string; readonly columns: ReadonlyMap<string, string> };
  readonly tiles: { readonly sql: string; readonly columns: ReadonlyMap<string, string> };
  /** The cohorts to compare, in plan order. */
  readonly cohorts: readonly string[];
  /**
   * Forgotten people (erasure records): the tiles no longer hold their rows while the lake does, so
   * they are left out of both sides, and the populations may differ by them alone.
   * @default - nobody
   */
  readonly isForgotten?: (personId: string) => boolean;
}

/**
 * Evaluates the full and the tiled query of a refresh (each kept under its own name, released
 * after) and compares the population and every cohort's members; throws
 * {@link TilesMismatchError} naming each difference.
 */
export async function verifyTiles(request: VerifyRequest, engine: QueryEngine): Promise<void> {
  const kept: EvaluationRef[] = [];
  try {
    const full = await engine.evaluate(request.full.sql, `${request.runId}-verify-full`);
    kept.push(full);
    const tiles = await engine.evaluate(request.tiles.sql, `${request.runId}-verify-tiles`);
    kept.push(tiles);
    const mismatches: TilesMismatch[] = [];
    const screened = (ids: readonly string[]) => (request.isForgotten ? ids.filter((id) => !request.isForgotten?.(id)) : ids);
    if (full.population !== tiles.population && !(request.isForgotten && tiles.population < full.population))
      mismatches.push({ cohort: 'population', full: full.population, tiles: tiles.population, onlyFull: [], onlyTiles: [] });
    for (const cohort of request.cohorts) {
      const expected = screened(await engine.members(full, request.full.columns.get(cohort) as string));
      const actual = screened(await engine.members(tiles, request.tiles.columns.get(cohort) as string));
      const onlyFull = missing(expected, actual);
      const onlyTiles = missing(actual, expected);
      if (onlyFull.length > 0 || onlyTiles.length > 0)
        mismatches.push({ cohort, full: expected.length, tiles: actual.length, onlyFull, onlyTiles });
    }
    if (mismatches.length > 0) throw new TilesMismatchError(mismatches);
  } finally {
    for (const result of kept) await engine.release(result).catch(() => undefined);
  }
}
