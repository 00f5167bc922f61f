import type { KpiQualitySettings } from '../language/ast.ts';
import type { Kpis, Manifest } from '../store/manifest.ts';
import { HISTORY_WINDOW } from './cohort-checks.ts';
import { comparableForEveryKpi, kpiMinSize } from './kpi-checks.ts';

/** What a new version's checks need from the published versions before it. */
export interface HistoryNeeds {
  /** The new version's KPIs: the KPI history skips versions not comparable with them. */
  readonly kpis: Kpis;
  readonly quality?: KpiQualitySettings;
  /** The previous published version (current), which the change checks compare with. */
  readonly previousVersion: number | null;
}

/**
 * Whether the published versions read so far, newest first, hold every version the checks of a new
 * version read: the previous one, the last {@link HISTORY_WINDOW} for size, and the last
 * {@link HISTORY_WINDOW} comparable ones of each KPI. Versions comparable for every KPI count
 * for each, so once that many are read no older version can be among any KPI's last ones.
 */
export function historyComplete(newestFirst: readonly Manifest[], needs: HistoryNeeds): boolean {
  const { previousVersion } = needs;
  if (previousVersion !== null && !newestFirst.some((m) => m.version <= previousVersion)) return false;
  if (newestFirst.length < HISTORY_WINDOW) return false;
  const minSize = kpiMinSize(needs.quality);
  if (needs.kpis.size < minSize) return true;
  return newestFirst.filter((m) => comparableForEveryKpi(needs.kpis, m.kpis, minSize)).length >= HISTORY_WINDOW;
}
