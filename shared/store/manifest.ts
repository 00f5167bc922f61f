import type { EventFilter } from '../language/ast.ts';

/** Outcome of one check (SPEC section 6). */
export interface CheckResult {
  readonly name: string;
  readonly status: 'pass' | 'warn' | 'fail';
  readonly observed: number | string | null;
  readonly threshold: number | string | null;
  readonly message: string;
}

/** Where a version came from (SPEC section 5). */
export interface Lineage {
  readonly engine: string;
  readonly query: string;
  readonly inputs: readonly { readonly table: string; readonly location: string; readonly partitions: readonly string[] }[];
  readonly depends_on: readonly { readonly cohort: string; readonly version: number }[];
  readonly run_id: string;
  /**
   * People the privacy rules left out of this version, as counts (never ids): on the
   * suppression list, or forgotten by a deletion request. Absent in versions written without them.
   */
  readonly privacy?: { readonly suppressed: number; readonly forgotten: number };
  /** What the query read of the tiles (issue 14); absent when it read raw events only (`--full`, versions before tiles). */
  readonly tiles?: TilesLineage;
  /** Bytes the run read, where known; absent in versions written before tiles. */
  readonly bytes_scanned?: BytesScanned;
  /** The uploaded lists the rule read (through references too), by content; absent when it read none. */
  readonly lists?: readonly ListLineage[];
}

/** An uploaded list a version read: its name and content hash (see uploaded-lists.ts), never an entry. */
export interface ListLineage {
  readonly name: string;
  /** sha256 of the normalized entries, unique, sorted by UTF-8 bytes, each followed by a newline. */
  readonly hash: string;
  /** Distinct normalized entries. */
  readonly entries: number;
}

/** What a tiled query read: tile days, raw partitions and the measures read raw over their window. */
export interface TilesLineage {
  /** `tiles`, or `verify` when the tiled result was also checked against the full computation. */
  readonly mode: 'tiles' | 'verify';
  /** Tile days read, YYYY-MM-DD, `to` exclusive; absent when the query read no tile day. */
  readonly days?: { readonly from?: string; readonly to: string };
  /** The days before this one were read from the rollup tile (expired days folded together); absent when none were. */
  readonly rollup_before?: string;
  /** `dt` partitions read raw (YYYY-MM-DD, sorted): window edges, T's day, raw measures. */
  readonly raw_partitions: readonly string[];
  /** Measure ids read from raw events over their whole window (sums tiles cannot hold exactly). */
  readonly raw_measures: readonly string[];
}

/**
 * Bytes a refresh read. In the cloud what Athena reports scanned; locally the sizes of the files
 * a query reads (tile files and raw partitions), which is what a scan without pruning reads.
 */
export interface BytesScanned {
  /** Building the missing and stale tiles. */
  readonly tiles_build?: number;
  /** The query that computed the cohorts. */
  readonly evaluate?: number;
  /** What the full computation (the plan's partitions of raw events) reads, for comparison. */
  readonly full_estimate?: number;
}

/**
 * The KPIs of a version: size and movement, and the metrics of the project config (`metrics:`)
 * over its members, computed in the refresh's one query.
 */
export interface Kpis {
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
  /** Members who did the activation event in its window. */
  readonly activation_count: number;
  /** activation_count / size, rounded to 6 decimals; null for an empty cohort. */
  readonly activation_share: number | null;
  /** The members' `value` over the value metric's window, added up (4 decimals). */
  readonly value_sum: number;
  /** value_sum / size (4 decimals); null for an empty cohort. */
  readonly value_mean: number | null;
  /** The metrics as configured for this version; shifts are judged only between versions that agree. */
  readonly metrics: { readonly activation: EventFilter; readonly value: EventFilter };
}

/** `manifest.json` of a snapshot version: every key SPEC section 5 lists, plus a few more. */
export interface Manifest {
  readonly cohort: string;
  readonly version: number;
  readonly as_of: string;
  readonly created_at: string;
  readonly status: 'published' | 'held';
  readonly trigger: string;
  readonly rationale: string | null;
  readonly size: number;
  readonly previous_version: number | null;
  readonly entered: number;
  readonly exited: number;
  readonly definition: {
    readonly hash: string;
    readonly path: string;
    readonly name: string;
    readonly owner: string;
    readonly tier: string;
    readonly cadence: string;
    /** The accepted definition version this snapshot used (the catalog entry; see `cohorts history`). */
    readonly version?: number;
  };
  readonly checks: readonly CheckResult[];
  readonly lineage: Lineage;
  /** People in the population at as_of. */
  readonly population: number;
  /**
   * Set when deletion requests rewrote this version after it was written (SPEC section 5): how many
   * members they removed in all, how many requests did, and when the last one did. Size, entered
   * and exited are those of the rewritten members.
   */
  readonly erasure?: { readonly removed: number; readonly requests: number; readonly last_at: string };
  /** The holdout split, for a cohort whose program declares one. */
  readonly experiment?: ExperimentSplit;
  /** Absent only in versions written before KPIs existed. */
  readonly kpis?: Kpis;
  /** How old the version's data is at its as-of; absent in versions written before freshness existed. */
  readonly freshness?: Freshness;
}

/**
 * How old a version's data is: the newest valid event before the as-of among the sources its
 * rule reads (from the run's source checks), and as-of minus it in whole seconds. Both null when
 * none of those sources has a valid event in the days the source checks read.
 */
export interface Freshness {
  readonly newest_event: string | null;
  readonly staleness_seconds: number | null;
}

/**
 * A version that passed its checks (`status: published`) but never became current: another run
 * moved `current.json` first (or past it). Kept beside the version folders, written once; the
 * manifest itself is never rewritten.
 */
export interface LostPublish {
  readonly cohort: string;
  readonly version: number;
  /** The version this one was compared with (its `previous_version`). */
  readonly computed_against: number | null;
  /** The version `current.json` named when this one tried to move it. */
  readonly current_version: number | null;
  readonly run_id: string;
  /** When the publish was refused, ISO-8601 UTC. */
  readonly at: string;
}

/** How a version's members were split for `program.experiment` (members = treatment + holdout). */
export interface ExperimentSplit {
  readonly name: string;
  /** As declared, e.g. `10%`. */
  readonly holdout: string;
  readonly salt: string;
  /** How a member's arm is computed. */
  readonly method: 'sha256(salt + person_id) < share';
  readonly treatment_size: number;
  readonly holdout_size: number;
  /** The holdout's members (one column person_id, byte order), beside members.parquet. */
  readonly holdout_file: string;
}
