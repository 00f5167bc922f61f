/**
 * The built-in probe of `cohorts doctor --cloud`: a small lake holding exactly the things a real
 * Athena workgroup might read differently from the local engine (the Athena emulation's probes,
 * ../shared/athena-check/probes), the cohorts that show each, and what a difference means.
 * No expected member is written here: the local engine computes them on the same lake.
 */

/** One line of the report: the cohorts whose members must agree, and what it means when they do not. */
export interface ProbeCheck {
  readonly name: string;
  readonly cohorts: readonly string[];
  /** What would break in the deployment, and what to do. */
  readonly meaning: string;
}

/** A probe lake event, as a JSONL line is written (numbers spelled as here) or a Parquet row. */
interface ProbeEvent {
  readonly id: string;
  readonly source: string;
  readonly user: string;
  readonly name: string;
  /** ISO instant, to the microsecond. */
  readonly ts: string;
  /** The `properties` object's text exactly as written, or none. */
  readonly properties?: string;
}

/** The as-of every probe cohort is evaluated at. */
export const PROBE_AS_OF = new Date('2024-06-01T00:00:00Z');

const event = (id: string, source: string, user: string, name: string, ts: string, properties?: string): ProbeEvent => ({
  id,
  source,
  user,
  name,
  ts,
  ...(properties === undefined ? {} : { properties }),
});

/** JSONL event files by key (relative to the probe lake's root); numbers spelled 5e0, -0, 4.50 on purpose. */
export const PROBE_JSONL_EVENTS: Readonly<Record<string, readonly ProbeEvent[]>> = {
  'events/dt=2014-12-31/events.jsonl': [event('o1', 'product', 'old_user', 'signed_up', '2014-12-31T12:00:00Z')],
  'events/dt=2024-05-01/events.jsonl': [
    event('a1', 'billing', 'a', 'plan_changed', '2024-05-01T10:00:00Z', '{"seats": 5e0}'),
    event('b1', 'billing', 'b', 'plan_changed', '2024-05-01T10:00:00Z', '{"seats": -0}'),
    event('c1', 'billing', 'c', 'plan_changed', '2024-05-01T10:00:00Z', '{"seats": 4.50}'),
    event('d1', 'billing', 'd', 'plan_changed', '2024-05-01T10:00:00Z', '{"seats": 0}'),
    event('d2', 'billing', 'd', 'plan_changed', '2024-05-01T11:00:00Z', '{"seats": -0}'),
    event('k1', 'crm', 'C-1', 'note_added', '2024-05-01T08:00:00Z'),
    event('k2', 'crm', 'C-2', 'note_added', '2024-05-01T09:00:00Z'),
  ],
  'events/dt=2024-05-02/events.jsonl.gz': [event('g1', 'product', 'gz_user', 'gz_opened', '2024-05-02T08:00:00Z')],
  'events/dt=2024-05-03/_x.jsonl': [event('h1', 'product', 'hidden_user', 'hidden_file_read', '2024-05-03T08:00:00Z')],
};

/**
 * The Parquet events (`ts` TIMESTAMP, microseconds): three logins, one half a millisecond before
 * the 1h window opens, one inside it, one half a millisecond before the as-of (read at millisecond
 * precision, the first and last move across the window's bounds), and one event far from any bound.
 */
export const PROBE_PARQUET_EVENTS_KEY = 'events/dt=2024-05-31/events.parquet';
export const PROBE_PARQUET_EVENTS: readonly ProbeEvent[] = [
  event('m1', 'product', 'early', 'login', '2024-05-31T22:59:59.999600Z'),
  event('m2', 'product', 'inside', 'login', '2024-05-31T23:30:00.000000Z'),
  event('m3', 'product', 'late', 'login', '2024-05-31T23:59:59.999900Z'),
  event('m4', 'product', 'parquet_user', 'parquet_seen', '2024-05-31T12:00:00.123456Z'),
];

/** The identity map, half JSONL, half Parquet: both merge a CRM id into a person. */
export const PROBE_JSONL_IDENTITIES_KEY = 'identities/map.jsonl';
export const PROBE_PARQUET_IDENTITIES_KEY = 'identities/map.parquet';
export const PROBE_JSONL_IDENTITIES = [{ source: 'crm', user_id: 'C-1', person_id: 'p1' }] as const;
export const PROBE_PARQUET_IDENTITIES = [{ source: 'crm', user_id: 'C-2', person_id: 'p2' }] as const;

/** A JSONL event line, with the properties' numbers as written. */
export function jsonlLine(e: ProbeEvent): string {
  const head = JSON.stringify({ event_id: e.id, source: e.source, user_id: e.user, event_name: e.name, ts: e.ts });
  return e.properties === undefined ? head : `${head.slice(0, -1)}, "properties": ${e.properties}}`;
}

const RULES: Readonly<Record<string, string>> = {
  seats_eq_5_0: '  event: plan_changed\n  where: {seats: {eq: "5.0"}}',
  seats_eq_minus_0: '  event: plan_changed\n  where: {seats: {eq: "-0"}}',
  seats_eq_4_5: '  event: plan_changed\n  where: {seats: {eq: "4.5"}}',
  seats_two_texts: '  event: plan_changed\n  distinct: {of: seats, gte: 2}',
  gz_opened: '  event: gz_opened',
  hidden_file_read: '  event: hidden_file_read',
  signed_up_ever: '  event: signed_up',
  crm_noted: '  event: note_added\n  source: crm',
  parquet_seen: '  event: parquet_seen',
  logged_in_1h: '  event: login\n  within: 1h',
};

/** The probe cohorts as definition files, for `buildCatalog`. */
export function probeDefinitionFiles(): { path: string; text: string }[] {
  return Object.entries(RULES).map(([id, rule]) => ({
    path: `${id}.yaml`,
    text: `id: ${id}\nname: ${id}\nowner: cohorts-doctor\npurpose: Probe of the deployment (cohorts doctor).\ncadence: daily\nrule:\n${rule}\n`,
  }));
}

/** One report line per check, in this order. */
export const PROBE_CHECKS: readonly ProbeCheck[] = [
  {
    name: 'number text',
    cohorts: ['seats_eq_5_0', 'seats_eq_minus_0', 'seats_eq_4_5', 'seats_two_texts'],
    meaning:
      'Athena does not see JSON numbers in properties as written (5e0, -0, 4.50): string eq/in, distinct and latest on numeric properties ' +
      'give other members than locally (SPEC section 4); the events_jsonl table must have one string column `line` (redeploy the stack)',
  },
  {
    name: 'jsonl.gz files',
    cohorts: ['gz_opened'],
    meaning:
      'events in .jsonl.gz files are not read: every cohort misses them; check the events_jsonl table (LazySimpleSerDe, SymlinkTextInputFormat)',
  },
  {
    name: 'hidden file names',
    cohorts: ['hidden_file_read'],
    meaning:
      'files named _x.jsonl or .x.jsonl are not read (Hadoop skips them); the Plan copies them under lake-files/: check that the deployed code is this version',
  },
  {
    name: 'history before 2015',
    cohorts: ['signed_up_ever'],
    meaning:
      "old partitions are cut: all-history rules and before: windows lose people; check the dt projection range of the lake tables ('1583-01-01,9999-12-31')",
  },
  {
    name: 'identity map (JSONL and Parquet)',
    cohorts: ['crm_noted'],
    meaning: 'part of the identity map is not read: people are not merged across sources; check identities_jsonl and identities_parquet',
  },
  {
    name: 'Parquet events',
    cohorts: ['parquet_seen'],
    meaning: 'Parquet event files are not read (or not all of them); check the events_parquet table',
  },
  {
    name: 'Parquet microseconds',
    cohorts: ['logged_in_1h'],
    meaning:
      'Athena reads a Parquet ts at millisecond precision (rounded): an event within half a millisecond of a window bound is placed differently than locally; ' +
      'deploy the stack at this version (events_parquet reads ts as the stored bigint, per unit partition)',
  },
];
