import type { GuardrailSettings } from '../config/config.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { buildCatalog, type Catalog, type CatalogFile } from '../language/catalog.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import type { QueryEngine } from '../ports.ts';
import type { CatalogStore } from './catalog-store.ts';
import { cohortGraph } from '../language/graph.ts';
import { type ChangeKind, type CohortChange, compareCatalogs, type PublishedCatalog, publishedCatalog } from './compare.ts';
import { type GuardrailVerdict, judgeChange, judgeStatically } from './guardrails.ts';
import { type MemberImpact, measureImpact } from './impact.ts';
import type { AcceptedChange, ApprovalDecision, DefinitionVersion } from './records.ts';

/** The governance of one cohort's change, as plain JSON (it travels in the refresh plan). */
export interface CohortGovernance extends GuardrailVerdict {
  readonly cohort: string;
  readonly kind: ChangeKind;
  /** Top-level keys that changed. */
  readonly fields: readonly string[];
  /** The working definition's hash; null when its file was removed. */
  readonly hash: string | null;
  /** The published definition version it is compared with; null when there is none. */
  readonly published: { readonly version: number; readonly hash: string | null } | null;
  /** Members added and removed on the current data, when measured. */
  readonly impact: MemberImpact | null;
  /** Cohorts that read this one, directly or not (their members move with it). */
  readonly dependants: readonly string[];
}

/** Everything the governance decided about a working catalog. */
export interface Governance {
  /** Every cohort that is not unchanged, in catalog order, removals last. */
  readonly changes: readonly CohortGovernance[];
  /** The same with the definitions themselves, for diffs. */
  readonly details: ReadonlyMap<string, CohortChange>;
  /** The catalog a refresh uses: accepted changes, and the published definition where a change was refused or waits. */
  readonly effective: Catalog;
  /** The catalog version every effective cohort is at once `record` has run (new ones included). */
  readonly versions: ReadonlyMap<string, number>;
  /** Catalog entries to add, without the run's facts (when, who, which run). */
  readonly accept: readonly Omit<DefinitionVersion, 'accepted_at' | 'run_id' | 'author'>[];
  /** The latest catalog entry of every cohort, as compared with (a retried step finds its own entries here). */
  readonly entries: ReadonlyMap<string, DefinitionVersion>;
}

/** Ports of the governance: the published catalog and its audit trail, and the engine that measures. */
export interface GovernancePorts {
  readonly catalog: CatalogStore;
  readonly engine: QueryEngine;
  readonly settings: GuardrailSettings;
}

/**
 * Compares a working catalog with the published one, measures on the current data what it must
 * (every change when `measureAll`, as `cohorts plan` does; else only the core rule changes whose
 * size move decides whether they need an approval), applies the guardrails and the recorded
 * approvals, and says which catalog a refresh would use. Reads only; `recordGovernance` writes.
 */
export async function governCatalog(
  input: { readonly working: Catalog; readonly asOf: Date; readonly measureAll?: boolean },
  ports: GovernancePorts,
): Promise<Governance> {
  if (input.working.problems.length > 0) throw new InvalidDefinitionsError(input.working.problems);
  const working = input.working.definitions;
  const published = publishedCatalog(await ports.catalog.latest());
  const compared = compareCatalogs(working, published);
  const moved = compared.filter((c) => c.kind === 'changed' || c.kind === 'deprecated' || c.kind === 'removed');
  const movedIds = new Set(moved.map((c) => c.cohort));
  const dependants = new Map(
    moved.map((c) => [
      c.cohort,
      cohortGraph(c.kind === 'removed' ? [...published.definitions.values()] : working)
        .reached(c.cohort, 'dependants')
        .map((d) => d.id),
    ]),
  );

  const decisions = new Map<string, ApprovalDecision>();
  for (const change of compared) {
    if (!change.after || change.kind === 'unchanged' || !change.before) continue;
    const decision = await ports.catalog.decision(change.cohort, change.after.hash);
    if (decision) decisions.set(change.cohort, decision);
  }

  const live = new Set(working.filter((d) => !d.deprecated).map((d) => d.id));
  const measure = input.measureAll
    ? [...compared.filter((c) => c.kind === 'added' || c.kind === 'changed').map((c) => c.cohort), ...[...dependants.values()].flat()]
    : compared.filter((c) => judgeStatically(c).measure_size && !decisions.has(c.cohort)).map((c) => c.cohort);
  const varied = new Set([...movedIds, ...[...dependants.values()].flat()]);
  const impacts = await measureImpact(
    {
      working,
      measure: measure.filter((id) => live.has(id)),
      published: new Map(
        [...varied].flatMap((id) => (published.definitions.has(id) ? [[id, published.definitions.get(id) as CohortDefinition]] : [])),
      ),
      asOf: input.asOf,
    },
    ports.engine,
  );

  const changes: CohortGovernance[] = [];
  const verdicts = new Map<string, GuardrailVerdict>();
  for (const change of compared) {
    const decision = decisions.get(change.cohort);
    const impact = impacts.get(change.cohort);
    const verdict = judgeChange(change, { settings: ports.settings, ...(impact ? { impact } : {}), ...(decision ? { decision } : {}) });
    verdicts.set(change.cohort, verdict);
    if (change.kind === 'unchanged' && !impact) continue;
    const entry = published.entries.get(change.cohort);
    changes.push({
      cohort: change.cohort,
      kind: change.kind,
      fields: change.fields,
      hash: change.after?.hash ?? null,
      published: entry ? { version: entry.version, hash: entry.hash } : null,
      impact: impact ?? null,
      dependants: dependants.get(change.cohort) ?? [],
      ...verdict,
    });
  }
  return {
    changes,
    details: new Map(compared.map((c) => [c.cohort, c])),
    entries: published.entries,
    ...effectiveCatalog(compared, verdicts, input.working, published),
  };
}

/** The catalog a refresh uses and the catalog entries that accepting it adds. */
function effectiveCatalog(
  compared: readonly CohortChange[],
  verdicts: ReadonlyMap<string, GuardrailVerdict>,
  working: Catalog,
  published: PublishedCatalog,
): Pick<Governance, 'effective' | 'versions' | 'accept'> {
  const files: CatalogFile[] = [];
  const accept: Governance['accept'][number][] = [];
  const versions = new Map<string, number>();
  const keptAt = new Map<string, string>();
  for (const change of compared) {
    const entry = published.entries.get(change.cohort);
    const verdict = verdicts.get(change.cohort)?.verdict;
    if (verdict !== 'accepted' && change.before && entry?.text) {
      files.push({ path: change.before.path, text: entry.text, ...(entry.actions ? { actions: entry.actions } : {}) });
      versions.set(change.cohort, entry.version);
      keptAt.set(change.before.path, keptNote(change, entry.version, verdict));
      continue;
    }
    const next = (entry?.version ?? 0) + 1;
    if (change.kind === 'removed') {
      accept.push({
        cohort: change.cohort,
        version: next,
        change: 'removed',
        hash: null,
        path: null,
        text: null,
        tier: null,
        cadence: null,
        change_reason: null,
        approval: null,
      });
      continue;
    }
    const after = change.after as CohortDefinition;
    const actions = working.actions?.get(after.id);
    files.push({ path: after.path, text: working.texts?.get(after.id) ?? '', ...(actions ? { actions } : {}) });
    if (change.kind === 'unchanged' && entry) {
      versions.set(change.cohort, entry.version);
      continue;
    }
    const kind: AcceptedChange = change.kind === 'deprecated' ? 'deprecated' : change.kind === 'changed' ? 'changed' : 'added';
    versions.set(change.cohort, next);
    accept.push({
      cohort: after.id,
      version: next,
      change: kind,
      hash: after.hash,
      path: after.path,
      text: working.texts?.get(after.id) ?? null,
      ...(actions ? { actions } : {}),
      tier: after.tier,
      cadence: after.cadence,
      change_reason: after.change_reason ?? null,
      approval: verdicts.get(change.cohort)?.decision ?? null,
    });
  }
  const effective = buildCatalog(files, [], working.lists);
  if (effective.problems.length > 0) {
    // A kept (published) definition may read a cohort this change removes: refuse the whole catalog, saying why.
    const removed = compared.filter((c) => c.kind === 'removed').length;
    const removing = removed > 0 ? `; the working definitions remove ${removed} of the ${published.entries.size} published cohorts` : '';
    throw new InvalidDefinitionsError(
      effective.problems.map((p) => ({
        ...p,
        message: `${p.message} (${keptAt.get(p.file) ?? 'while keeping the published definition of a refused or waiting change'}${removing})`,
      })),
    );
  }
  return { effective, versions, accept };
}

/**
 * Whose text a problem in a kept file is in: the published definition, which the working file no
 * longer holds (its path may not even exist in the definitions folder), and why a refresh keeps it.
 */
function keptNote(change: CohortChange, version: number, verdict: GuardrailVerdict['verdict'] | undefined): string {
  const what = change.kind === 'removed' ? 'its removal' : `its ${change.kind === 'deprecated' ? 'deprecation' : 'change'}`;
  const why = verdict === 'refused' ? `${what} is refused` : `${what} waits for approval`;
  const where = change.kind === 'removed' ? 'not a working definition' : 'not the working file';
  return `in the published definition v${version} of ${change.cohort}, ${where}: a refresh keeps it because ${why}`;
}

/** What one refresh recorded: catalog entries, and the refused and waiting changes seen for the first time. */
export interface GovernanceRecord {
  readonly accepted: readonly DefinitionVersion[];
  /** Cohorts whose refusal or wait was recorded now (so alerted now), not in an earlier run. */
  readonly alerted: readonly string[];
}

/**
 * Records what a refresh accepted (one catalog entry per new definition version) and, once per
 * cohort and definition, what it refused or keeps waiting. Safe to repeat: a retried step finds
 * its entries and records nothing twice.
 */
export async function recordGovernance(
  governance: Governance,
  catalog: CatalogStore,
  facts: { readonly runId: string; readonly at: string; readonly authorOf: (change: CohortGovernance) => Promise<string | null> },
): Promise<GovernanceRecord> {
  const accepted: DefinitionVersion[] = [];
  const byCohort = new Map(governance.changes.map((c) => [c.cohort, c]));
  for (const entry of governance.accept) {
    const change = byCohort.get(entry.cohort);
    const full: DefinitionVersion = {
      ...entry,
      author: change ? await facts.authorOf(change) : null,
      accepted_at: facts.at,
      run_id: facts.runId,
    };
    await catalog.accept(full);
    accepted.push(full);
  }
  const alerted: string[] = [];
  for (const change of governance.changes) {
    if (change.verdict === 'accepted') continue;
    const isNew = await catalog.record({
      cohort: change.cohort,
      outcome: change.verdict,
      hash: change.hash,
      reasons: change.reasons,
      author: await facts.authorOf(change),
      at: facts.at,
      run_id: facts.runId,
    });
    if (isNew) alerted.push(change.cohort);
  }
  return { accepted, alerted };
}
