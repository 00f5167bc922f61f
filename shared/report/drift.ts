import type { Manifest } from '../store/manifest.ts';

/** A size change above this share of the previous size is flagged. */
export const DRIFT_THRESHOLD_PCT = 20;

/** Something a reader of a cohort's history should look at. */
export type DriftFlag =
  | {
      readonly kind: 'size-change';
      readonly version: number;
      readonly as_of: string;
      /** The version it is compared with. */
      readonly baseline: number;
      readonly from: number;
      readonly to: number;
      /** Signed change in percent; infinite when the baseline was empty. */
      readonly changePct: number;
    }
  | {
      readonly kind: 'held';
      readonly version: number;
      readonly as_of: string;
      /** Names of the checks that failed. */
      readonly failed: readonly string[];
    };

/** Signed change from `from` to `to` in percent; infinite from an empty baseline, 0 from 0 to 0. */
export function changePct(from: number, to: number): number {
  if (from === 0) return to === 0 ? 0 : Number.POSITIVE_INFINITY;
  return ((to - from) / from) * 100;
}

/**
 * Drift flags of a cohort's versions, in version order: held versions, and versions whose size
 * moved more than DRIFT_THRESHOLD_PCT against the version their manifest compares with
 * (`previous_version`, the previous published one), so a held outlier does not flag the
 * recovery after it, and the percentage agrees with the entered/exited counts beside it.
 */
export function driftFlags(manifests: readonly Manifest[]): DriftFlag[] {
  const byVersion = new Map(manifests.map((m) => [m.version, m]));
  const flags: DriftFlag[] = [];
  for (const manifest of [...manifests].sort((a, b) => a.version - b.version)) {
    const baseline = manifest.previous_version === null ? undefined : byVersion.get(manifest.previous_version);
    if (baseline) {
      const pct = changePct(baseline.size, manifest.size);
      if (Math.abs(pct) > DRIFT_THRESHOLD_PCT) {
        flags.push({
          kind: 'size-change',
          version: manifest.version,
          as_of: manifest.as_of,
          baseline: baseline.version,
          from: baseline.size,
          to: manifest.size,
          changePct: pct,
        });
      }
    }
    if (manifest.status === 'held') {
      flags.push({
        kind: 'held',
        version: manifest.version,
        as_of: manifest.as_of,
        failed: manifest.checks.filter((c) => c.status === 'fail').map((c) => c.name),
      });
    }
  }
  return flags;
}
