import { compileRefresh, type MetricColumns } from '../compiler/compile-refresh.ts';
import { compileSourceChecks } from '../checks/source-query.ts';
import { readSourceCheckRows } from '../checks/source-rows.ts';
import { type SourceCheckReport, sourceChecks, withLakeWarnings } from '../checks/source-checks.ts';
import { DEFAULT_CONFIG, type MetricSettings, type ProjectConfig } from '../config/config.ts';
import type { CohortDefinition, ProgramBlock, QualitySettings } from '../language/ast.ts';
import { selectForRun } from '../language/catalog.ts';
import { type CohortGraph, cohortGraph } from '../language/graph.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import { personalPropertyProblems } from '../privacy/personal-properties.ts';
import { sourceReads } from '../language/source-reads.ts';
import type { LineageInput, QueryEngine } from '../ports.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';

/** One refresh: which cohorts, at which instant, and why. */
export interface RefreshRequest {
  /** The validated catalog (deprecated cohorts included; they are never refreshed). */
  readonly catalog: readonly CohortDefinition[];
  /** Cohort ids to refresh (with everything they depend on); all when empty. */
  readonly cohorts?: readonly string[];
  /** Only cohorts of this cadence (with their dependencies). */
  readonly cadence?: string;
  readonly asOf: Date;
  /** Write a new version even when one exists for this as-of and definition hash. */
  readonly force?: boolean;
  /** Why it ran: `manual`, `schedule:daily`, `definition-change`, ... */
  readonly trigger: string;
  readonly rationale?: string;
}

/** What a snapshot step needs to know about its cohort; plain JSON, so it can cross Step Functions. */
export interface PlannedCohort {
  readonly id: string;
  /** Its boolean column in the evaluation result. */
  readonly column: string;
  readonly definition: {
    readonly hash: string;
    readonly path: string;
    readonly name: string;
    readonly owner: string;
    readonly tier: string;
    readonly cadence: string;
    readonly change_reason: string | null;
    readonly quality: QualitySettings | null;
    /** What the cohort is for, so alerts can say which programs a change affects. */
    readonly program: ProgramBlock | null;
    /** The catalog version of this definition (`<state>/catalog/cohort=<id>/version=<N>.json`), when governed. */
    readonly version?: number;
  };
  /** A version with this as-of and definition hash exists: nothing is written (unless forced). */
  readonly unchanged: { readonly version: number } | null;
  /** The version this run writes (assigned at plan time, so dependants can name it). */
  readonly version: number;
  /** Versions of the cohorts it references that this run reads. */
  readonly depends_on: readonly { readonly cohort: string; readonly version: number }[];
  /** The sources its rule reads (through references too); null when it reads every source. */
  readonly sources_read: readonly string[] | null;
}

/** Everything the later steps of a refresh need; plain JSON. */
export interface RefreshPlan {
  readonly run_id: string;
  readonly as_of: string;
  readonly trigger: string;
  readonly rationale: string | null;
  readonly engine: string;
  /** The one query of the run, in the engine's dialect. */
  readonly query: string;
  readonly partitions: { readonly from?: string; readonly to: string };
  readonly inputs: readonly LineageInput[];
  /** In dependency order. */
  readonly cohorts: readonly PlannedCohort[];
  /** The source checks of this run: a failing source holds the cohorts that read it. */
  readonly source_checks: SourceCheckReport;
  /** The KPI metrics of this run: their columns in the result and how the config defines them. */
  readonly metrics: { readonly columns: MetricColumns; readonly settings: MetricSettings };
}

/** Turns a plan's query into the statement the Evaluate state runs. */
export type StatementBuilder = (plan: RefreshPlan) => string;

/** The plan step: select, compile into one query, and assign version numbers. */
export async function planRefresh(
  request: RefreshRequest,
  ports: { readonly engine: QueryEngine; readonly store: SnapshotStore; readonly config?: ProjectConfig },
  runId: string,
): Promise<RefreshPlan> {
  const asOf = request.asOf.toISOString();
  const personal = personalPropertyProblems(request.catalog, ports.config?.privacy?.personal_properties ?? []);
  if (personal.length > 0) throw new InvalidDefinitionsError(personal);
  const selected = selectForRun(request.catalog, {
    ...(request.cohorts ? { ids: request.cohorts } : {}),
    ...(request.cadence ? { cadence: request.cadence } : {}),
  });
  const config = ports.config ?? DEFAULT_CONFIG;
  const lake = await ports.engine.lake();
  const compiled = compileRefresh({
    cohorts: selected,
    asOf: request.asOf,
    lake: lake.relations,
    dialect: ports.engine.dialect,
    metrics: config.metrics,
  });
  const checks = compileSourceChecks({ asOf: request.asOf, lake: lake.relations, dialect: ports.engine.dialect });
  const source_checks = withLakeWarnings(
    sourceChecks(readSourceCheckRows(await ports.engine.rows(checks.sql)), config, request.asOf),
    lake.warnings ?? [],
  );
  const graph = cohortGraph(request.catalog);
  const versionOf = new Map<string, number>();
  const cohorts: PlannedCohort[] = [];
  for (const cohort of selected) {
    // A version that lost the publish race is not this as-of's answer: downstream never saw it.
    const lost = await ports.store.lostPublishes(cohort.id);
    const existing = (await ports.store.manifests(cohort.id)).find(
      (m) => m.as_of === asOf && m.definition.hash === cohort.hash && !lost.has(m.version),
    );
    const unchanged = existing && !request.force ? { version: existing.version } : null;
    const version = unchanged ? unchanged.version : await ports.store.nextVersion(cohort.id);
    versionOf.set(cohort.id, version);
    cohorts.push({
      id: cohort.id,
      column: compiled.columns.get(cohort.id) as string,
      definition: definitionFacts(cohort),
      unchanged,
      version,
      depends_on: graph.dependencies(cohort.id).map((id) => ({
        cohort: id,
        version: versionOf.get(id) as number,
      })),
      sources_read: sourcesRead(cohort, graph),
    });
  }
  return {
    run_id: runId,
    as_of: asOf,
    trigger: request.trigger,
    rationale: request.rationale ?? null,
    engine: ports.engine.name,
    query: compiled.sql,
    partitions: compiled.partitions,
    inputs: lake.inputs(compiled.partitions),
    cohorts,
    source_checks,
    metrics: { columns: compiled.metrics as MetricColumns, settings: config.metrics },
  };
}

/** The sources a rule's leaves read, through cohort references; null when one reads every source. */
function sourcesRead(cohort: CohortDefinition, graph: CohortGraph): string[] | null {
  const reads = sourceReads([cohort, ...graph.reached(cohort.id, 'dependencies')].map((d) => d.rule));
  return reads.anySource ? null : [...reads.sources];
}
function definitionFacts(cohort: CohortDefinition): PlannedCohort['definition'] {
  return {
    hash: cohort.hash,
    path: cohort.path,
    name: cohort.name,
    owner: cohort.owner,
    tier: cohort.tier,
    cadence: cohort.cadence,
    change_reason: cohort.change_reason ?? null,
    quality: cohort.quality ?? null,
    program: cohort.program ?? null,
  };
}
