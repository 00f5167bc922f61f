import type { RefreshGovernancePorts } from '../governance/refresh-governance.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { buildCatalog, type CatalogFile } from '../language/catalog.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import type { DefinitionsSource } from '../ports.ts';
import type { WorkflowPlan } from './types.ts';

/** A planned cohort's definition is neither the working one nor the catalog version the plan names. */
export class PlannedDefinitionMissingError extends Error {
  override readonly name = 'PlannedDefinitionMissingError';
}

/**
 * The definitions a plan compiled, in plan order, for a step after Plan that compiles again (the
 * Tiles step): each planned cohort's working definition when its hash is the planned one, else
 * the catalog version the guardrails kept (a refused or waiting change). A definition that changed
 * in between and was not kept fails the step, naming it: the run computes what it planned or nothing.
 */
export async function plannedDefinitions(
  plan: Pick<WorkflowPlan, 'cohorts' | 'run_id'>,
  ports: { readonly definitions: DefinitionsSource; readonly governance?: RefreshGovernancePorts },
): Promise<CohortDefinition[]> {
  const working = await ports.definitions();
  const byId = new Map(working.definitions.map((d) => [d.id, d]));
  const files: CatalogFile[] = [];
  for (const cohort of plan.cohorts) {
    const current = byId.get(cohort.id);
    const text = working.texts?.get(cohort.id);
    if (current?.hash === cohort.definition.hash && text !== undefined) {
      const actions = working.actions?.get(cohort.id);
      files.push({ path: current.path, text, ...(actions ? { actions } : {}) });
      continue;
    }
    const version = cohort.definition.version;
    const kept = version === undefined ? undefined : await ports.governance?.catalog.version(cohort.id, version);
    if (kept?.hash !== cohort.definition.hash || !kept.text || !kept.path) {
      throw new PlannedDefinitionMissingError(
        `cohort "${cohort.id}": the definition run ${plan.run_id} planned (hash ${cohort.definition.hash.slice(0, 12)}) is no longer in the catalog`,
      );
    }
    files.push({ path: kept.path, text: kept.text, ...(kept.actions ? { actions: kept.actions } : {}) });
  }
  const catalog = buildCatalog(files);
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  const built = new Map(catalog.definitions.map((d) => [d.id, d]));
  return plan.cohorts.map((c) => built.get(c.id) as CohortDefinition);
}
