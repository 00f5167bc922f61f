import type { Manifest } from '../store/manifest.ts';
import type { CohortHistory } from './history.ts';

/** Versions a chart shows at most (the newest); hourly cohorts would otherwise bloat the page. */
export const MAX_CHART_POINTS = 500;

/** The versions a chart plots, oldest first. */
export function chartedVersions(manifests: readonly Manifest[]): readonly Manifest[] {
  return manifests.slice(-MAX_CHART_POINTS);
}

/** The data index.html embeds as JSON for its charts. */
export interface ChartData {
  readonly generated_at: string;
  readonly cohorts: readonly {
    readonly id: string;
    readonly name: string;
    readonly versions: readonly {
      readonly version: number;
      readonly as_of: string;
      readonly status: 'published' | 'held';
      readonly size: number;
      /** Activation share (0 to 1); null for an empty version or one without KPIs. */
      readonly activation_share: number | null;
      /** Value per member; null for an empty version or one without KPIs. */
      readonly value_mean: number | null;
    }[];
    /** Whether any version has KPIs (and so a KPI chart). */
    readonly has_kpis: boolean;
  }[];
}

/** Whether a cohort has a version with KPIs among those charted. */
export function hasKpis(history: CohortHistory): boolean {
  return chartedVersions(history.manifests).some((m) => m.kpis !== undefined);
}

/** Chart data of every cohort with at least one version. */
export function chartData(histories: readonly CohortHistory[], generatedAt: Date): ChartData {
  return {
    generated_at: generatedAt.toISOString(),
    cohorts: histories
      .filter((h) => h.manifests.length > 0)
      .map((h) => ({
        id: h.definition.id,
        name: h.definition.name,
        versions: chartedVersions(h.manifests).map((m) => ({
          version: m.version,
          as_of: m.as_of,
          status: m.status,
          size: m.size,
          activation_share: m.kpis?.activation_share ?? null,
          value_mean: m.kpis?.value_mean ?? null,
        })),
        has_kpis: hasKpis(h),
      })),
  };
}
