import { randomUUID } from 'node:crypto';
import type { Duration } from '../language/duration.ts';
import type { QueryEngine } from '../ports.ts';
import { benjaminiHochberg } from '../stats/benjamini-hochberg.ts';
import { type SampleSize, sampleSizeForProportions } from '../stats/sample-size.ts';
import { compareProportions, type ProportionComparison } from '../stats/two-proportions.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { convertedPeople } from './conversions.ts';

/** Which experiments to read out: cohorts (each at its current or a given version) and metrics. */
export interface ReadOutRequest {
  readonly cohorts: readonly { readonly id: string; readonly version?: number }[];
  /** Event names; a member converted when they did one within the window. */
  readonly metrics: readonly string[];
  /** The window after each version's as_of. */
  readonly within: Duration;
}

/** One arm of an experiment for one metric. */
export interface ArmOutcome {
  readonly size: number;
  readonly converted: number;
  readonly rate: number;
}

/**
 * Below these an arm is small: intervals and p-values from normal approximations mislead (Wald's
 * most), so the read-out warns and the score interval is the one to read.
 */
export const SMALL_ARM = { people: 30, conversions: 10 } as const;

/** Whether an arm is too small to lean on: fewer than SMALL_ARM people or conversions. */
export const isSmallArm = (arm: ArmOutcome): boolean => arm.size < SMALL_ARM.people || arm.converted < SMALL_ARM.conversions;

/** One cohort and metric, treatment against holdout. */
export interface MetricReadOut {
  readonly cohort: string;
  readonly version: number;
  readonly experiment: string;
  readonly metric: string;
  /** `[from, to)`: the version's as_of and as_of + within. */
  readonly window: { readonly from: string; readonly to: string };
  /** The window ends after `now`: conversions may still come. */
  readonly incomplete: boolean;
  readonly treatment: ArmOutcome;
  readonly holdout: ArmOutcome;
  readonly comparison: ProportionComparison;
  /** People needed in each arm (at this split) to detect the observed lift at 80% power, two-sided 5%. */
  readonly needed: SampleSize | null;
  /** Benjamini-Hochberg adjusted p-value over every cohort and metric read at once. */
  readonly pAdjusted: number;
}

/** A cohort version without a holdout split: nothing to read out. */
export class NoExperimentError extends Error {
  override readonly name = 'NoExperimentError';
}

/**
 * Reads out experiments: for each cohort version with a holdout split, the members of each arm who
 * did each metric event within the window after the version's as_of (computed by the engine on the
 * lake), compared with the statistics of shared/stats, p-values adjusted together.
 */
export async function readOutExperiments(
  request: ReadOutRequest,
  ports: { readonly engine: QueryEngine; readonly store: SnapshotStore; readonly now?: () => Date },
): Promise<MetricReadOut[]> {
  const now = (ports.now ?? (() => new Date()))();
  const rows: Omit<MetricReadOut, 'pAdjusted'>[] = [];
  for (const wanted of request.cohorts) {
    const version = wanted.version ?? (await ports.store.current(wanted.id));
    if (version === undefined) throw new NoExperimentError(`cohort "${wanted.id}" has no published version to read out`);
    const manifest = await ports.store.manifest(wanted.id, version);
    if (!manifest) throw new NoExperimentError(`cohort "${wanted.id}" has no version ${version}`);
    const holdoutMembers = manifest.experiment ? await ports.store.holdout(wanted.id, version) : undefined;
    if (!manifest.experiment || !holdoutMembers) {
      throw new NoExperimentError(
        `cohort "${wanted.id}" v${version} has no holdout split: declare program.holdout and program.salt, then refresh`,
      );
    }
    const members = await ports.store.members(wanted.id, version);
    const holdout = new Set(holdoutMembers);
    const treatment = members.filter((m) => !holdout.has(m));
    const from = new Date(manifest.as_of);
    const to = new Date(from.getTime() + request.within.ms);
    const converted = await convertedPeople(ports.engine, request.metrics, from, request.within, `readout_${randomUUID()}`);
    for (const metric of request.metrics) {
      const did = converted.get(metric) ?? new Set<string>();
      const arm = (people: readonly string[] | ReadonlySet<string>): ArmOutcome => {
        const list = [...people];
        const count = list.filter((p) => did.has(p)).length;
        return { size: list.length, converted: count, rate: list.length === 0 ? 0 : count / list.length };
      };
      const t = arm(treatment);
      const h = arm(holdout);
      const comparison = compareProportions({ successes: t.converted, trials: t.size }, { successes: h.converted, trials: h.size });
      const needed = h.size === 0 ? null : sampleSizeForProportions(t.rate, h.rate, { ratio: Math.max(t.size, 1) / h.size });
      rows.push({
        cohort: wanted.id,
        version,
        experiment: manifest.experiment.name,
        metric,
        window: { from: from.toISOString(), to: to.toISOString() },
        incomplete: to > now,
        treatment: t,
        holdout: h,
        comparison,
        needed,
      });
    }
  }
  const adjusted = benjaminiHochberg(rows.map((r) => r.comparison.p));
  return rows.map((row, i) => ({ ...row, pAdjusted: adjusted[i] as number }));
}
