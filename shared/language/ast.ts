import type { Duration } from './duration.ts';
import type { SourcePosition } from './errors.ts';
import type { WindowDuration } from './window-duration.ts';

/** A scalar operand written in a definition: YAML strings, booleans and numbers (every number a double). */
export type Scalar = string | number | boolean;

/** Numeric bounds of a measure or velocity; every given bound must hold. */
export interface Bounds {
  readonly eq?: number;
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
}

/** Property operators (SPEC section 4); every given operator must hold. */
export interface PropertyOps {
  readonly eq?: Scalar;
  readonly neq?: Scalar;
  readonly in?: readonly Scalar[];
  readonly not_in?: readonly Scalar[];
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
  readonly exists?: boolean;
  /** The value's text contains / starts with / ends with the operand (characters compared exactly). */
  readonly contains?: string;
  readonly starts_with?: string;
  readonly ends_with?: string;
  /** The value's text contains the operand, ASCII letters compared case-insensitively (other characters exactly). */
  readonly icontains?: string;
  /** The value's text read as a `ts` (SPEC section 1) is before `T - D` (D may be calendar months). */
  readonly before?: WindowDuration;
  /** The value read as a `ts` lies in `[T - D, T)`. */
  readonly within?: WindowDuration;
  /** The value read as a `ts` lies in `[T, T + D)` (T plus n months clamped as T minus n months is). */
  readonly within_next?: WindowDuration;
}

/** A `where` entry: one top-level property and its operators. */
export interface PropertyFilter {
  readonly property: string;
  readonly ops: PropertyOps;
}

/** What a `list:` leaf reads, as lineage records it: never an entry. */
export interface ListContent {
  /** sha256 (hex) of the normalized entries, unique, sorted by UTF-8 bytes, each followed by `\n`. */
  readonly hash: string;
  /** How many distinct normalized entries the list holds. */
  readonly entries: number;
}

/** Which events a window admits, relative to the as-of instant T (durations may be calendar months). */
export type Window =
  | { readonly kind: 'within'; readonly duration: WindowDuration }
  | { readonly kind: 'before'; readonly duration: WindowDuration }
  | { readonly kind: 'between'; readonly from: WindowDuration; readonly to: WindowDuration };

/**
 * `periods: {every, count, at_least}` (issue 16, "regularly"): period i (0 = newest) is
 * `[T - (i+1)*every, T - i*every)`; the leaf holds when at least `at_least` of the `count`
 * periods each satisfy its count bounds.
 */
export interface Periods {
  readonly every: WindowDuration;
  readonly count: number;
  readonly at_least: number;
}

/**
 * Which of a person's events a leaf looks at. `events: '*'` is any event name. A filter written as
 * `action: <name>` carries the action's name beside its resolved events, sources and `where` (the
 * action's, then the leaf's own), so the definition's hash covers what the action means.
 */
export interface EventFilter {
  /** The named action it was written as (`<definitions>/actions/<name>.yaml`), if any. */
  readonly action?: string;
  readonly events: readonly string[] | '*';
  readonly sources?: readonly string[];
  readonly where: readonly PropertyFilter[];
  readonly window?: Window;
}

/** What an event leaf measures over its matching events. */
export type Measure =
  | { readonly kind: 'count'; readonly bounds: Bounds }
  | { readonly kind: 'sum'; readonly of?: string; readonly bounds: Bounds }
  | { readonly kind: 'distinct'; readonly of: string; readonly bounds: Bounds };

/**
 * A sequence (issue 16): events matching `steps` in order, at strictly increasing `ts`, each within
 * `maxGap` of the one before when given, all inside `window`. Each step is an event filter without
 * a window of its own.
 */
export interface Sequence {
  readonly kind: 'sequence';
  readonly steps: readonly EventFilter[];
  readonly maxGap?: Duration;
  readonly window?: Window;
}

/** One condition of the definition language, after validation. */
export type Condition =
  | { readonly kind: 'all'; readonly items: readonly Condition[] }
  | { readonly kind: 'any'; readonly items: readonly Condition[] }
  | { readonly kind: 'not'; readonly item: Condition }
  | { readonly kind: 'cohort'; readonly id: string; readonly position?: SourcePosition }
  /**
   * Membership of an uploaded list, `<definitions>/lists/<name>.csv` (a static cohort); `content`
   * is set by the catalog that read the list (never part of the definition's hash).
   */
  | { readonly kind: 'list'; readonly name: string; readonly position?: SourcePosition; readonly content?: ListContent }
  | { readonly kind: 'event'; readonly filter: EventFilter; readonly measure: Measure }
  | { readonly kind: 'latest'; readonly filter: EventFilter; readonly property: string; readonly ops: PropertyOps }
  | { readonly kind: 'earliest'; readonly filter: EventFilter; readonly property: string; readonly ops: PropertyOps }
  | {
      readonly kind: 'velocity';
      readonly filter: EventFilter;
      readonly window: WindowDuration;
      readonly bounds: Bounds;
    }
  | {
      readonly kind: 'periods';
      /** The leaf's events; never a window (the periods are its window). */
      readonly filter: EventFilter;
      readonly periods: Periods;
      /** The count bounds each period is tested with. */
      readonly bounds: Bounds;
    }
  | Sequence;

/** Cohort tiers, from most to least protected. */
export const TIERS = ['core', 'strategic', 'tactical', 'experimental'] as const;
/**
 * How often a cohort is refreshed. `realtime` (every few minutes, on tiles) extends the SPEC's
 * hourly to quarterly.
 */
export const CADENCES = ['realtime', 'hourly', 'daily', 'weekly', 'monthly', 'quarterly'] as const;

export type Tier = (typeof TIERS)[number];
export type Cadence = (typeof CADENCES)[number];

/** Declared quality thresholds of a cohort (SPEC section 6). */
export interface QualitySettings {
  /** Hold the version when it has fewer members. */
  readonly min_size?: number;
  /** Hold the version when it has more members. */
  readonly max_size?: number;
  /** Hold the version when its size moved more than this share against the previous published one. */
  readonly max_change_pct?: number;
  /** Warn when more than this share of the previous members entered or left (default 50). */
  readonly max_churn_pct?: number;
  /** Warn beyond this robust z-score of size against the history of versions (default 3.5). */
  readonly max_history_z?: number;
  /** Thresholds of the KPI shift checks (defaults in checks/kpi-checks.ts). */
  readonly kpis?: KpiQualitySettings;
}

/** Warn and fail levels of one KPI shift check; a level left out keeps its default (fail: never). */
export interface ShiftLevels {
  readonly warn?: number;
  readonly fail?: number;
}

/** A definition's `quality.kpis`: how far a version's KPIs may move. */
export interface KpiQualitySettings {
  /** KPI shifts are not judged when this version or the one compared with has fewer members. */
  readonly min_size?: number;
  /** Activation share against the previous published version, in percentage points. */
  readonly activation_change?: ShiftLevels;
  /** Value sum and mean against the previous published version, in percent. */
  readonly value_change?: ShiftLevels;
  /** |robust z| of each KPI against the history of versions. */
  readonly history_z?: ShiftLevels;
}

/** What a cohort is used for. */
export interface ProgramBlock {
  readonly hypothesis?: string;
  readonly experiment?: string;
  readonly outcome_metric?: string;
  /** Share of members held out of the program, e.g. `10%` (needs `experiment` and `salt`). */
  readonly holdout?: string;
  /** Mixed into the hash that assigns members to treatment or holdout. */
  readonly salt?: string;
}

/** How a cohort was retired. */
export interface Deprecation {
  readonly reason: string;
  readonly replaced_by?: string;
}

/** A validated cohort definition with the file it came from. */
export interface CohortDefinition {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly purpose: string;
  readonly tier: Tier;
  readonly cadence: Cadence;
  readonly rule: Condition;
  readonly quality?: QualitySettings;
  readonly limitations?: string;
  readonly program?: ProgramBlock;
  readonly change_reason?: string;
  readonly deprecated?: Deprecation;
  /** The file, as given to the loader (relative paths stay relative). */
  readonly path: string;
  /** sha256 of the canonical form (see canonical.ts). */
  readonly hash: string;
}
