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
    }[];
  }[];
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
        versions: chartedVersions(h.manifests).map((m) => ({ version: m.version, as_of: m.as_of, status: m.status, size: m.size })),
      })),
  };
}
