import type { SourceCheckSource } from '../checks/source-check-source.ts';
import type { ProjectConfig } from '../config/config.ts';
import type { RefreshPlan, StatementBuilder } from '../engine/plan.ts';
import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import type { CohortEvents, CohortVersionEvent } from '../deliver/events.ts';
import type { CohortExports, ExportLocations } from '../deliver/exports.ts';
import type { DecisionInstructions } from '../governance/decision-command.ts';
import type { RefreshGovernancePorts } from '../governance/refresh-governance.ts';
import type { GovernanceReport } from '../governance/report-schema.ts';
import type { AlertSeverity, ConfigSource, DefinitionsSource, EvaluationLookup, Notifier, QueryEngine } from '../ports.ts';
import type { PrivacySettings } from '../config/privacy-schema.ts';
import type { EventSettings, TileSettings } from '../config/schema.ts';
import type { PrivacyPorts } from '../privacy/ports.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { BytesScanned } from '../store/manifest.ts';
import type { RefreshMode } from '../refresh-request.ts';
import type { TileStore } from '../tiles/tile-store.ts';

/** The plan as the state machine carries it: plain JSON, the same in both worlds. */
export interface WorkflowPlan extends RefreshPlan {
  /** How the cohorts are computed: the Tiles step reads it. */
  readonly mode: RefreshMode;
  /** What the guardrails decided about definition changes; absent when the run is not governed. */
  readonly governance?: GovernanceReport;
  /** The project config Plan read, as far as later steps use it: one run, one config. */
  readonly config: RunConfig;
}

/** What the steps after Plan use of the project config, carried in the plan (`$.plan.config`). */
export interface RunConfig {
  /** SHA-256 (hex) of the whole config as parsed, defaults included: runs with one hash used the same settings. */
  readonly hash: string;
  /** Suppression list, personal properties and salt of this run. */
  readonly privacy: PrivacySettings;
  /** How long the Tiles step keeps single tile days; absent in plans from before expiry (no retention). */
  readonly tiles?: TileSettings;
  /** How many per-member events a run may send (run-budget.ts); absent in plans from before them (the default applies). */
  readonly events?: EventSettings;
}

/** Ports of the Plan step. */
export interface PlanPorts {
  readonly definitions: DefinitionsSource;
  readonly engine: QueryEngine;
  readonly store: SnapshotStore;
  /**
   * The project config (check levels, SLAs, KPI metrics, guardrails, privacy), or where to read
   * it when the run is planned (the cloud). The plan carries what later steps need of it.
   * @default - DEFAULT_CONFIG
   */
  readonly config?: ProjectConfig | ConfigSource;
  /** The published catalog the guardrails compare with. @default - none: every definition is refreshed as written */
  readonly governance?: RefreshGovernancePorts;
  /** Deletion requests are processed before planning, with the config's privacy settings. @default - none */
  readonly privacy?: PrivacyPorts;
  /**
   * Whether pending deletion requests may be carried out now, asked only when one is pending. In the
   * cloud, not while a run past ReleaseTiles still runs (the tile store's lease records them): it
   * may be writing versions and exports the erasure rewrites (or will write a version the erasure's
   * sweep never saw); the requests then wait for a later refresh. @default - always
   */
  readonly mayErase?: () => Promise<boolean>;
  /** Where the definition versions the guardrails accept are announced (`Definition Accepted`). @default - not announced */
  readonly events?: CohortEvents;
  /** Where the source checks' rows come from. @default - their query, run by the engine every run */
  readonly sourceChecks?: SourceCheckSource;
}

/**
 * What the Tiles step leaves at `$.tiles`: the statement Evaluate runs and what it reads. Plain
 * JSON, the same in both worlds.
 */
export interface TilesState {
  /**
   * What the Evaluate state runs (`$.tiles.statement`). On Athena, a CTAS that keeps the result
   * as a table (see shared/cloud/athena-statement.ts); locally, the query itself, which the DuckDB
   * engine keeps in a temporary table.
   */
  readonly statement: string;
  /** The tiled query inside the statement, which lineage records; absent in `full` mode (the plan's query). */
  readonly query?: string;
  readonly mode: RefreshMode;
  /** Tile days the query reads, YYYY-MM-DD, `to` exclusive; absent when it reads none. */
  readonly tile_days?: { readonly from?: string; readonly to: string };
  /** `dt` partitions (YYYY-MM-DD) read raw: in `full` mode, every partition of the plan. */
  readonly raw_partitions: readonly string[];
  /** Measure ids read raw over their window. */
  readonly raw_measures: readonly string[];
  /** Tile days built (they had no tile), rebuilt (stale, with why) and reused. */
  readonly built_days: readonly string[];
  readonly rebuilt_days: readonly { readonly day: string; readonly reason: string }[];
  readonly reused_days: number;
  /** Tile days folded into the rollup and deleted by this run (expiry); absent when none. */
  readonly expired_days?: readonly string[];
  /** The query read the days before this one from the rollup tile; absent when it read no rollup. */
  readonly rollup_before?: string;
  /** Bytes read where known. */
  readonly bytes_scanned?: BytesScanned;
}

/** Ports of the Tiles step. */
export interface TilesPorts {
  /** The working catalog: the plan's definitions are found in it by hash. */
  readonly definitions: DefinitionsSource;
  readonly engine: QueryEngine;
  /** Wraps the query into what Evaluate runs. */
  readonly statement: StatementBuilder;
  readonly tiles: TileStore;
  /** The erasure records: tiles built from the lake leave forgotten people out. @default - nobody is left out */
  readonly privacy?: PrivacyPorts;
  /** Where a definition the guardrails kept (a refused or waiting change) is found by its catalog version. @default - none */
  readonly governance?: RefreshGovernancePorts;
}

/** Ports of the Snapshot step. */
export interface SnapshotPorts {
  readonly engine: QueryEngine;
  readonly store: SnapshotStore;
  readonly evaluations: EvaluationLookup;
  readonly now?: () => Date;
  /** Suppressed and forgotten people are left out of the version; the plan's settings apply. @default - none */
  readonly privacy?: PrivacyPorts;
}

/** Ports of the Deliver step. */
export interface DeliverPorts {
  /** Where the version and its previous published version are read. */
  readonly store: SnapshotStore;
  readonly exports: CohortExports;
  readonly events: CohortEvents;
  /** Suppressed and forgotten people are left out of every export; the run's settings apply. @default - exports as stored */
  readonly privacy?: PrivacyPorts;
}

/** What one Deliver iteration did (`$.deliveries[i]`). */
export interface Delivery {
  readonly cohort: string;
  readonly version: number;
  readonly status: CohortOutcome['status'];
  /** The event published or null for an unchanged cohort (nothing new to say). */
  readonly event: CohortVersionEvent['detailType'] | null;
  /** Where the version was exported; null unless it was published by this run. */
  readonly exports: ExportLocations | null;
  /** `Cohort Entered`, `Cohort Exited` and `Cohort Members Changed` events this delivery sent. @default 0 */
  readonly member_events?: number;
}

/** Ports of the Finish step. */
export interface FinishPorts {
  readonly engine: QueryEngine;
  readonly evaluations: EvaluationLookup;
  readonly notifier: Notifier;
  readonly now?: () => Date;
  /** The privacy check of the run, reported in its alert; the plan's settings apply. @default - no check */
  readonly privacy?: PrivacyPorts;
  /** How the owners are told to decide waiting definition changes. @default - LOCAL_DECISIONS */
  readonly decisions?: DecisionInstructions;
}

/** Ports of the AlertFailure step. */
export interface AlertFailurePorts {
  readonly notifier: Notifier;
  /** When given with an evaluation in the input, the kept result is released (best effort). */
  readonly engine?: QueryEngine;
  readonly evaluations?: EvaluationLookup;
}

/** Every port a whole run needs. */
export type WorkflowPorts = PlanPorts & TilesPorts & SnapshotPorts & DeliverPorts & FinishPorts & AlertFailurePorts;

/** Output of the Finish state, and so of a successful execution. */
export interface WorkflowSummary {
  readonly run_id: string;
  readonly as_of: string;
  readonly trigger: string;
  /** People in the population at as_of. */
  readonly population: number;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  /** One outcome per planned cohort, in plan (dependency) order. */
  readonly cohorts: readonly CohortOutcome[];
  /** One delivery per outcome: the event published and where a published version was exported. */
  readonly deliveries: readonly Delivery[];
  /** Severity of the one alert sent, or null when nothing warned, failed or was held. */
  readonly alert: AlertSeverity | null;
  /** How the cohorts were computed: the mode, the tile days built, rebuilt and reused, raw measures, bytes read where known. */
  readonly tiles: TilesSummary;
}

/** The run summary's account of the Tiles step. */
export interface TilesSummary {
  readonly mode: RefreshMode;
  readonly built_days: number;
  readonly rebuilt_days: number;
  readonly reused_days: number;
  /** Tile days expired (folded into the rollup); absent when none. */
  readonly expired_days?: number;
  readonly raw_measures: readonly string[];
  readonly bytes_scanned?: BytesScanned;
}
