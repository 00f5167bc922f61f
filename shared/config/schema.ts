import { z } from 'zod';
import { CADENCES, type Cadence, type EventFilter } from '../language/ast.ts';
import { trailingFilterSchema } from '../language/schema.ts';
import { refusePersonalMetricFilters } from './personal-metrics.ts';
import { type PrivacySettings, privacySchema } from './privacy-schema.ts';
import { shownValue as shown } from '../language/errors.ts';
import type { Describes } from '../wire-types.ts';

/**
 * The project config file (`cohorts.config.yaml`): per-source freshness SLAs, the warn/fail
 * levels of every source check, and the metrics every cohort version reports as KPIs. Every key is
 * optional; unknown keys are errors.
 */

/**
 * The oldest latest-event age the source checks can measure: they read 28 full days before the
 * last full day, so a freshness level (SLA times `checks.freshness.fail`) may not exceed it.
 */
export const MAX_FRESHNESS_HOURS = 28 * 24;

/** One source's settings; the key is the source exactly as events carry it (case-sensitive). */
export interface SourceSettings {
  /** This source's freshness SLA in hours; absent: `defaults.freshness_hours`. */
  readonly freshness_hours?: number;
  /**
   * The source must have events: when it has no valid event in the days the checks read, its
   * freshness fails (a source that stops writing altogether must not disappear silently).
   * @default false
   */
  readonly expected: boolean;
  /**
   * Whether this source's user ids are expected in the identity map (the unmapped-ids check).
   * Absent: expected when the map holds at least one row for the source. A source whose ids are
   * the person ids themselves (typically the product) has no identity rows and is not checked.
   */
  readonly mapped?: boolean;
}

/** Levels for a share of rows, in percent: warn at or above `warn`, fail at or above `fail`. */
export interface ShareLevels {
  readonly warn: number;
  readonly fail: number;
}

/** Levels for a number of rows or keys: warn at or above `warn`, fail at or above `fail` (never when absent). */
export interface CountLevels {
  readonly warn: number;
  readonly fail?: number;
}

/** Warn and fail levels of every source check. */
export interface CheckLevels {
  /**
   * Latest valid event age, in multiples of the source's SLA: past `warn` times the SLA the check
   * warns, past `fail` times it fails.
   * @default { warn: 1, fail: 2 } (a daily source that missed one delivery warns, one that missed two fails)
   */
  readonly freshness: { readonly warn: number; readonly fail: number };
  /**
   * |robust z| of the last full UTC day's events against the trailing 28 days.
   * @default { warn: 3.5, fail: 6, min_history_days: 7 } (3.5 is Iglewicz and Hoaglin's outlier
   * cut-off; 6 is a move no ordinary day makes; with fewer than 7 days of history the check passes
   * and says so)
   */
  readonly volume: { readonly warn: number; readonly fail: number; readonly min_history_days: number };
  /**
   * Invalid rows as a percentage of the source's rows (rows without a source: of all rows).
   * @default { warn: 1, fail: 10 }
   */
  readonly invalid_rows: ShareLevels;
  /**
   * Rows repeating an event_id, as a percentage of the source's valid rows.
   * @default { warn: 0.5, fail: 5 } (5% is a replayed batch, not noise)
   */
  readonly duplicates: ShareLevels;
  /**
   * Valid events whose (source, user id) has no identity row, as a percentage of the source's events.
   * @default { warn: 5, fail: 25 }
   */
  readonly unmapped_ids: ShareLevels;
  /**
   * Identity keys mapping to more than one person_id, lake-wide.
   * @default { warn: 1 } (never fails unless set: the smallest person_id wins, deterministically)
   */
  readonly identity_conflicts: CountLevels;
  /**
   * Rows whose `dt` is more than one day from the UTC date of their `ts`, per source.
   * @default { warn: 1 } (never fails unless set: windowed refreshes may miss such rows, so fix the writer)
   */
  readonly dt_mismatch: CountLevels;
  /**
   * How old a cohort version's data may be, in hours, per cadence: past it (as-of minus the newest
   * valid event the version read) the version's `staleness` check warns. At most 672 (the days the
   * source checks read; older data is not measured, so it always warns).
   * @default {realtime: 0.25, hourly: 2, daily: 26, weekly: 170, monthly: 672, quarterly: 672}
   * (one missed run of the cadence plus delivery slack; daily matches the default source SLA)
   */
  readonly staleness: Readonly<Record<Cadence, number>>;
}

/** What the project does with events (EventBridge locally: `<state>/events.jsonl`). */
export interface EventSettings {
  /**
   * The most `Cohort Entered` and `Cohort Exited` events one run sends: its published versions, in
   * the run's order, send theirs while they fit in what is left; a version that does not fit sends
   * one `Cohort Members Changed` event pointing to its entered and exited export files instead.
   * 0: always the one event.
   * @default 1000
   */
  readonly member_events_max: number;
}

/**
 * The metrics each cohort version reports as KPIs (beside size, entered and exited), computed in the
 * refresh's one query. Each is an event filter over a trailing window before the as-of instant,
 * written with the keys of an event leaf: `event`, `source`, `where`, `within`.
 */
export interface MetricSettings {
  /**
   * The activation event: the KPI is the share of members with at least one matching event.
   * @default {event: feature_used, source: product, within: 14d} (the sample lake's core product event)
   */
  readonly activation: EventFilter;
  /**
   * The events whose `value` is added up per member: the KPIs are its sum over members and its mean
   * per member (members without such events count as 0). `event` left out: any event.
   * @default {event: invoice_paid, source: billing, within: 30d} (revenue of the last 30 days)
   */
  readonly value: EventFilter;
}

/** The resolved project config: every default filled in. */
export interface ProjectConfig {
  readonly defaults: {
    /**
     * SLA in hours for sources without their own.
     * @default 26 (a daily batch plus two hours of delivery slack)
     */
    readonly freshness_hours: number;
  };
  /** Per-source settings, by source name. @default {} */
  readonly sources: Readonly<Record<string, SourceSettings>>;
  readonly checks: CheckLevels;
  /** Guardrails on definition changes (SPEC section 7). */
  readonly guardrails: GuardrailSettings;
  readonly metrics: MetricSettings;
  readonly events: EventSettings;
  /** Personal properties, the suppression list and the salt of erasure records. */
  readonly privacy: PrivacySettings;
  readonly tiles: TileSettings;
}

/** Daily tiles (issue 14): how long single days are kept. */
export interface TileSettings {
  /**
   * Days before the as-of day whose tiles are kept as single days even when no window needs them;
   * older days are folded into the rollup tile (see README "How tiles work").
   * @default - none: only the days the catalog's windows read are kept
   */
  readonly retention_days?: number;
}

/** When a change to a core cohort needs an approval. */
export interface GuardrailSettings {
  /**
   * A core cohort's rule change that moves its size (new rule against the last accepted one, both
   * on the current data) by more than this percentage waits for `cohorts approve`.
   * @default 25
   */
  readonly approval_size_change_pct: number;
}

const positive = () =>
  z
    .number({ error: (issue) => `must be a number, got ${shown(issue.input)}` })
    .positive({ error: (issue) => `must be a positive number, got ${shown(issue.input)}` });

const percent = () =>
  z
    .number({ error: (issue) => `must be a percentage between 0 and 100, got ${shown(issue.input)}` })
    .min(0, { error: (issue) => `must be a percentage between 0 and 100, got ${shown(issue.input)}` })
    .max(100, { error: (issue) => `must be a percentage between 0 and 100, got ${shown(issue.input)}` });

const count = () =>
  z
    .number({ error: (issue) => `must be a positive integer, got ${shown(issue.input)}` })
    .int({ error: (issue) => `must be a positive integer, got ${shown(issue.input)}` })
    .positive({ error: (issue) => `must be a positive integer, got ${shown(issue.input)}` });

const flag = () => z.boolean({ error: (issue) => `must be true or false, got ${shown(issue.input)}` });

const hours = () =>
  positive().max(MAX_FRESHNESS_HOURS, `must be at most ${MAX_FRESHNESS_HOURS} hours (the 28 days the source checks read)`);

/** Staleness bounds by cadence, in hours (realtime is there for when the language has it). */
const DEFAULT_STALENESS_HOURS = { realtime: 0.25, hourly: 2, daily: 26, weekly: 170, monthly: 672, quarterly: 672 };

const staleness = z
  .strictObject(
    Object.fromEntries(CADENCES.map((cadence) => [cadence, hours().default(DEFAULT_STALENESS_HOURS[cadence])])) as Record<
      Cadence,
      z.ZodDefault<z.ZodNumber>
    >,
  )
  .prefault({});

/** Refinements look at values that passed their own checks only. */
const whenValid = { when: (payload: z.core.ParsePayload) => payload.issues.length === 0 };

/** A level that fails before it warns is a typo. */
const warnNotAboveFail = (value: { warn: number; fail?: number }, ctx: z.RefinementCtx) => {
  if (value.fail !== undefined && value.warn > value.fail) {
    ctx.addIssue({
      code: 'custom',
      path: ['warn'],
      message: `must not be above fail (${value.fail}), got ${value.warn}`,
      input: value.warn,
    });
  }
};

const share = (warn: number, fail: number) =>
  z
    .strictObject({ warn: percent().default(warn), fail: percent().default(fail) })
    .superRefine(warnNotAboveFail, whenValid)
    .prefault({});

const tally = (warn: number) =>
  z
    .strictObject({ warn: count().default(warn), fail: count().optional() })
    .superRefine(warnNotAboveFail, whenValid)
    .prefault({});

const sourceSettings = z.strictObject({
  freshness_hours: hours().optional(),
  expected: flag().default(false),
  mapped: flag().optional(),
});

const checkLevels = z
  .strictObject({
    freshness: z
      .strictObject({
        warn: z
          .number({ error: (issue) => `must be a number of at least 1, got ${shown(issue.input)}` })
          .min(1, 'must be at least 1 (a multiple of the SLA)')
          .default(1),
        fail: z
          .number({ error: (issue) => `must be a number of at least 1, got ${shown(issue.input)}` })
          .min(1, 'must be at least 1 (a multiple of the SLA)')
          .default(2),
      })
      .superRefine(warnNotAboveFail, whenValid)
      .prefault({}),
    volume: z
      .strictObject({
        warn: positive().default(3.5),
        fail: positive().default(6),
        min_history_days: count().max(28, 'must be at most 28 (the trailing days the check reads)').default(7),
      })
      .superRefine(warnNotAboveFail, whenValid)
      .prefault({}),
    invalid_rows: share(1, 10),
    duplicates: share(0.5, 5),
    unmapped_ids: share(5, 25),
    identity_conflicts: tally(1),
    dt_mismatch: tally(1),
    staleness,
  })
  .prefault({});

/** The whole config file, as zod validates it. */
export const configSchema = z
  .strictObject({
    defaults: z.strictObject({ freshness_hours: hours().default(26) }).prefault({}),
    sources: z.record(z.string().min(1, 'a source name must not be empty'), sourceSettings).default({}),
    checks: checkLevels,
    guardrails: z.strictObject({ approval_size_change_pct: positive().default(25) }).prefault({}),
    metrics: z
      .strictObject({
        activation: trailingFilterSchema({ anyEvent: false }).prefault({ event: 'feature_used', source: 'product', within: '14d' }),
        value: trailingFilterSchema({ anyEvent: true }).prefault({ event: 'invoice_paid', source: 'billing', within: '30d' }),
      })
      .prefault({}),
    events: z
      .strictObject({
        member_events_max: z
          .number({ error: (issue) => `must be a whole number of at least 0, got ${shown(issue.input)}` })
          .int({ error: (issue) => `must be a whole number of at least 0, got ${shown(issue.input)}` })
          .min(0, { error: (issue) => `must be a whole number of at least 0, got ${shown(issue.input)}` })
          .default(1000),
      })
      .prefault({}),
    privacy: privacySchema,
    tiles: z.strictObject({ retention_days: count().optional() }).prefault({}),
  })
  .superRefine((config, ctx) => {
    // Freshness can only be judged up to the days the checks read.
    const fail = config.checks.freshness.fail;
    const tooLong = (sla: number) => sla * fail > MAX_FRESHNESS_HOURS;
    const why = (sla: number) =>
      `${sla} hours times checks.freshness.fail (${fail}) is beyond the ${MAX_FRESHNESS_HOURS} hours the source checks read`;
    if (tooLong(config.defaults.freshness_hours)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaults', 'freshness_hours'],
        message: why(config.defaults.freshness_hours),
        input: config.defaults.freshness_hours,
      });
    }
    for (const [name, source] of Object.entries(config.sources)) {
      if (source.freshness_hours !== undefined && tooLong(source.freshness_hours)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sources', name, 'freshness_hours'],
          message: why(source.freshness_hours),
          input: source.freshness_hours,
        });
      }
    }
    refusePersonalMetricFilters(config.metrics, config.privacy.personal_properties, ctx);
  }, whenValid);

// The schema yields exactly the documented types (a compile error here means they drifted apart).
const sameShape: Describes<typeof configSchema, ProjectConfig> = true;
void sameShape;
