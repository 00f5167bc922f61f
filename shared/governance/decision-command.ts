import type { CatalogStore } from './catalog-store.ts';

/** How an owner decides a waiting change where the refresh ran: locally, or against the deployment. */
export interface DecisionInstructions {
  /** In the cloud `cohorts approve` takes `--cloud` and names the reviewed definition (`--hash`), since others may upload meanwhile. */
  readonly cloud: boolean;
  /** Where the decision object goes, for an approver who writes it by hand. @default - not said */
  readonly locate?: (cohort: string, hash: string) => string;
}

/** Deciding on the local state folder: `cohorts approve ID --by NAME --note WHY`. */
export const LOCAL_DECISIONS: DecisionInstructions = { cloud: false };

/** Deciding on a deployment: `--cloud --hash`, or the decision object in the definitions bucket's catalog. */
export function cloudDecisions(catalog: CatalogStore): DecisionInstructions {
  return { cloud: true, locate: (cohort, hash) => catalog.locateDecision(cohort, hash) };
}

/** The exact command that approves (or rejects) a waiting definition. */
export function decisionCommand(
  verb: 'approve' | 'reject',
  cohort: string,
  hash: string | null,
  where: DecisionInstructions = LOCAL_DECISIONS,
): string {
  const flags = where.cloud ? ` --cloud${hash ? ` --hash ${hash.slice(0, 12)}` : ''}` : '';
  return `cohorts ${verb} ${cohort}${flags} --by NAME --note WHY`;
}
