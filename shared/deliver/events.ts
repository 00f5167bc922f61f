import type { AcceptedChange, ApprovalDecision, DefinitionVersion } from '../governance/records.ts';
import type { Manifest } from '../store/manifest.ts';
import type { ExportLocations } from './exports.ts';

/** `source` of every event this project publishes; EventBridge rules match on it. */
export const EVENT_SOURCE = 'cohort-refresh';

/** Where a cohort version's files live: s3:// URIs in the cloud, paths locally. */
export interface CohortVersionLocations {
  /** The version's folder: `s3://<snapshots>/snapshots/cohort=<id>/version=<N>/`. */
  readonly snapshot: string;
  readonly manifest: string;
  readonly members: string;
  /** The version's exports, when it was published (held versions are not exported). */
  readonly exports?: ExportLocations;
}

/** `detail` of `Cohort Refreshed` and `Cohort Held` (snake_case, like the manifest). */
export interface CohortVersionDetail {
  readonly cohort: string;
  readonly version: number;
  readonly status: 'published' | 'held';
  readonly as_of: string;
  readonly trigger: string;
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
  readonly previous_version: number | null;
  /** Names of the checks that warned or failed. */
  readonly warned_checks: readonly string[];
  readonly failed_checks: readonly string[];
  readonly run_id: string;
  readonly locations: CohortVersionLocations;
}

/** `detail` of `Definition Rejected`: an uploaded definition that did not validate (SPEC 3). */
export interface DefinitionRejectedDetail {
  readonly status: 'rejected';
  /** The cohort id, when the file got far enough to have one. */
  readonly cohort: string | null;
  /** The uploaded file's key, e.g. `incoming/power_users.yaml`. */
  readonly path: string;
  /** Where it was uploaded: `s3://<definitions>/incoming/...` (a path locally). */
  readonly location: string;
  /** `path:line:col: message` lines. */
  readonly errors: readonly string[];
  /** The upload's id (the S3 notification's event id), which names the validation. */
  readonly run_id: string;
}

/** `detail` of `Definition Accepted`: a refresh accepted a definition version into the catalog (SPEC 7). */
export interface DefinitionAcceptedDetail {
  readonly status: 'accepted';
  readonly cohort: string;
  /** The catalog version: what the manifests made from it name as `definition.version`. */
  readonly version: number;
  readonly change: AcceptedChange;
  /** The definition's hash; null for a removal. */
  readonly hash: string | null;
  /** Where the definition was read (an s3:// URI in the cloud); null for a removal. */
  readonly location: string | null;
  readonly change_reason: string | null;
  readonly author: string | null;
  /** The approval it needed, if it needed one. */
  readonly approval: ApprovalDecision | null;
  readonly accepted_at: string;
  /** The refresh that accepted it. */
  readonly run_id: string;
}

/** `detail` of `Cohort Entered` and `Cohort Exited`: one person who joined or left a cohort with a published version. */
export interface MemberChangeDetail {
  readonly cohort: string;
  readonly version: number;
  readonly person_id: string;
  /** The version's as-of instant, ISO-8601 UTC. */
  readonly as_of: string;
  /** The run that wrote the version. */
  readonly run_id: string;
}

/**
 * `detail` of `Cohort Members Changed`: sent instead of one event per person when more people
 * entered and exited a version than `events.member_events_max`; the lists are in the export files.
 */
export interface MembersChangedDetail {
  readonly cohort: string;
  readonly version: number;
  readonly as_of: string;
  readonly run_id: string;
  readonly entered: number;
  readonly exited: number;
  /** The limit the version passed: above it, per-member events give way to this one. */
  readonly member_events_max: number;
  readonly locations: Pick<ExportLocations, 'folder' | 'entered_csv' | 'exited_csv' | 'entered_parquet' | 'exited_parquet'>;
}

/** An event this project publishes: its detail type and detail. */
export type CohortEvent =
  | { readonly detailType: 'Cohort Refreshed'; readonly detail: CohortVersionDetail }
  | { readonly detailType: 'Cohort Held'; readonly detail: CohortVersionDetail }
  | { readonly detailType: 'Cohort Entered'; readonly detail: MemberChangeDetail }
  | { readonly detailType: 'Cohort Exited'; readonly detail: MemberChangeDetail }
  | { readonly detailType: 'Cohort Members Changed'; readonly detail: MembersChangedDetail }
  | { readonly detailType: 'Definition Rejected'; readonly detail: DefinitionRejectedDetail }
  | { readonly detailType: 'Definition Accepted'; readonly detail: DefinitionAcceptedDetail };

/** The event of a cohort version: `Cohort Refreshed` or `Cohort Held`. */
export type CohortVersionEvent = Extract<CohortEvent, { readonly detailType: 'Cohort Refreshed' | 'Cohort Held' }>;

/**
 * Where events for programmatic consumers go: an EventBridge bus in the cloud,
 * `<state>/events.jsonl` locally. A retried step may publish an event again, so consumers
 * deduplicate on (cohort, version, detail-type), (cohort, version, person_id, detail-type) or (path, run_id).
 */
export interface CohortEvents {
  publish(events: readonly CohortEvent[]): Promise<void>;
}

/** The event for a version just written: `Cohort Refreshed` when published, `Cohort Held` when held. */
export function cohortVersionEvent(manifest: Manifest, locations: CohortVersionLocations): CohortVersionEvent {
  const detail: CohortVersionDetail = {
    cohort: manifest.cohort,
    version: manifest.version,
    status: manifest.status,
    as_of: manifest.as_of,
    trigger: manifest.trigger,
    size: manifest.size,
    entered: manifest.entered,
    exited: manifest.exited,
    previous_version: manifest.previous_version,
    warned_checks: manifest.checks.filter((c) => c.status === 'warn').map((c) => c.name),
    failed_checks: manifest.checks.filter((c) => c.status === 'fail').map((c) => c.name),
    run_id: manifest.lineage.run_id,
    locations,
  };
  return manifest.status === 'published' ? { detailType: 'Cohort Refreshed', detail } : { detailType: 'Cohort Held', detail };
}

/** The event for a definition version a refresh accepted into the catalog. */
export function definitionAcceptedEvent(entry: DefinitionVersion): CohortEvent {
  const { cohort, version, change, hash, change_reason, author, approval, accepted_at, run_id } = entry;
  return {
    detailType: 'Definition Accepted',
    detail: {
      status: 'accepted',
      cohort,
      version,
      change,
      hash,
      location: entry.path,
      change_reason,
      author,
      approval,
      accepted_at,
      run_id,
    },
  };
}
