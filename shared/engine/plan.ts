import { z } from 'zod';
import { compileRefresh, type MetricColumns } from '../compiler/compile-refresh.ts';
import { querySourceChecks, type SourceCheckSource } from '../checks/source-check-source.ts';
import { withRefusedRecords } from '../checks/refused-check.ts';
import { sourceChecks, withLakeWarnings } from '../checks/source-checks.ts';
import { DEFAULT_CONFIG, type MetricSettings, type ProjectConfig } from '../config/config.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { programSchema, qualitySchema } from '../language/schema.ts';
import { eventFilterWireSchema } from '../language/wire-schema.ts';
import { sourceCheckReportSchema } from '../checks/report-schema.ts';
import type { Describes, Wire } from '../wire-types.ts';
import { cohortIdSchema, instantSchema } from '../refresh-request.ts';
import { selectForRun } from '../language/catalog.ts';
import { type CohortGraph, cohortGraph } from '../language/graph.ts';
import { InvalidDefinitionsError } from '../language/errors.ts';
import { personalPropertyProblems } from '../privacy/personal-properties.ts';
import { sourceReads } from '../language/source-reads.ts';
import { listsRead, sameLists } from '../language/lists-read.ts';
import { cohortFreshness, newestEventBySource, plannedFreshnessSchema } from '../checks/cohort-freshness.ts';
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

/** A version number of a cohort or of a definition in the catalog: 1, 2, ... */
export const versionSchema = z.number().int().min(1);

/**
 * What a snapshot step needs to know about its cohort; plain JSON, so it can cross Step Functions.
 * The schema is the description: `PlannedCohort` is what it yields.
 */
export const plannedCohortSchema = z.object({
  id: cohortIdSchema,
  /** Its boolean column in the evaluation result. */
  column: z.string().min(1),
  definition: z.object({
    hash: z.string(),
    path: z.string(),
    name: z.string(),
    owner: z.string(),
    tier: z.string(),
    cadence: z.string(),
    change_reason: z.string().nullable(),
    // The language's own schemas, so no setting is dropped on the way through Step Functions.
    quality: qualitySchema.nullable(),
    /** What the cohort is for, so alerts can say which programs a change affects. */
    program: programSchema.nullable(),
    /** The catalog version of this definition (`<state>/catalog/cohort=<id>/version=<N>.json`), when governed. */
    version: versionSchema.optional(),
  }),
  /** A version with this as-of and definition hash exists: nothing is written (unless forced). */
  unchanged: z.object({ version: versionSchema }).nullable(),
  /** The version this run writes (assigned at plan time, so dependants can name it). */
  version: versionSchema,
  /** Versions of the cohorts it references that this run reads. */
  depends_on: z.array(z.object({ cohort: cohortIdSchema, version: versionSchema })),
  /** The sources its rule reads (through references too); null when it reads every source. */
  sources_read: z.array(z.string()).nullable(),
  /** How old the data it reads is at the as-of, and its cadence's bound (absent in plans from before freshness). */
  freshness: plannedFreshnessSchema.optional(),
  /** The uploaded lists its rule reads (through references too), by name, with their content; absent when none. */
  lists: z.array(z.object({ name: z.string().min(1), hash: z.string().min(1), entries: z.number().int().nonnegative() })).optional(),
});

/** What a snapshot step needs to know about its cohort (see `plannedCohortSchema`). */
export type PlannedCohort = Wire<typeof plannedCohortSchema>;

/** Everything the later steps of a refresh need; plain JSON. The schema is the description: `RefreshPlan` is what it yields. */
export const refreshPlanSchema = z.object({
  run_id: z.string().min(1),
  as_of: instantSchema,
  trigger: z.string(),
  rationale: z.string().nullable(),
  engine: z.string(),
  /** The one query of the run, in the engine's dialect. */
  query: z.string().min(1),
  partitions: z.object({ from: z.string().optional(), to: z.string() }),
  inputs: z.array(z.object({ table: z.string(), location: z.string(), partitions: z.array(z.string()) })),
  /** In dependency order. */
  cohorts: z.array(plannedCohortSchema),
  /** The source checks of this run: a failing source holds the cohorts that read it. */
  source_checks: sourceCheckReportSchema,
  /** The KPI metrics of this run: their columns in the result and how the config defines them. */
  metrics: z.object({
    columns: z.object({ activated: z.string().min(1), value: z.string().min(1) }),
    settings: z.object({ activation: eventFilterWireSchema, value: eventFilterWireSchema }),
  }),
});

/** Everything the later steps of a refresh need (see `refreshPlanSchema`). */
export type RefreshPlan = Wire<typeof refreshPlanSchema>;

// What the plan takes from the lake, the compiler and the config is described exactly (tsc fails
// here when a field is added on either side; the schema would drop it on the way through Step Functions).
const planShape = refreshPlanSchema.shape;
const exact: [
  Describes<typeof planShape.inputs.element, LineageInput>,
  Describes<typeof planShape.metrics.shape.columns, MetricColumns>,
  Describes<typeof planShape.metrics.shape.settings, MetricSettings>,
] = [true, true, true];
void exact;

/** Turns a plan's query into the statement the Evaluate state runs. */
export type StatementBuilder = (plan: RefreshPlan) => string;

/** The plan step: select, compile into one query, and assign version numbers. */
export async function planRefresh(
  request: RefreshRequest,
  ports: {
    readonly engine: QueryEngine;
    readonly store: SnapshotStore;
    readonly config?: ProjectConfig;
    /** Where the source checks' rows come from. @default - their query, run by the engine */
    readonly sourceChecks?: SourceCheckSource;
  },
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
  const checkRows = await (ports.sourceChecks ?? querySourceChecks(ports.engine)).rows(request.asOf, lake);
  const source_checks = withRefusedRecords(
    withLakeWarnings(sourceChecks(checkRows, config, request.asOf), lake.warnings ?? []),
    lake.refused,
    request.asOf,
  );
  const newest = newestEventBySource(checkRows);
  const graph = cohortGraph(request.catalog);
  const versionOf = new Map<string, number>();
  const cohorts: PlannedCohort[] = [];
  for (const cohort of selected) {
    // A version that lost the publish race is not this as-of's answer: downstream never saw it.
    // Only this as-of's versions are read (the index's as-of entries), however long the history.
    const lost = await ports.store.lostVersions(cohort.id);
    const lists = listsRead(cohort, graph);
    const existing = (await ports.store.manifestsAsOf(cohort.id, asOf)).find(
      (m) => m.definition.hash === cohort.hash && sameLists(m.lineage.lists, lists) && !lost.has(m.version),
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
      freshness: cohortFreshness(newest, sourcesRead(cohort, graph), request.asOf, config.checks.staleness[cohort.cadence]),
      ...(lists.length > 0 ? { lists } : {}),
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
