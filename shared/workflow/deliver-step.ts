import type { CohortOutcome } from '../engine/snapshot-cohort.ts';
import { changes } from '../engine/member-changes.ts';
import { type CohortEvent, type CohortEvents, cohortVersionEvent, type CohortVersionLocations } from '../deliver/events.ts';
import type { CohortExports, ExportLocations } from '../deliver/exports.ts';
import type { DeliverEvent } from './events.ts';
import { exportScreen } from '../privacy/export-screen.ts';
import type { PrivacyPorts } from '../privacy/ports.ts';
import { VersionNotFoundError, type SnapshotStore } from '../store/snapshot-store.ts';
import { runPrivacy } from './run-config.ts';

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
  /** The event published, or null for an unchanged cohort (nothing new to say). */
  readonly event: CohortEvent['detailType'] | null;
  /** Where the version was exported; null unless it was published by this run. */
  readonly exports: ExportLocations | null;
}

/** The version the outcome names was not written by this run: the Map got another run's outcome. */
export class DeliveryMismatchError extends Error {
  override readonly name = 'DeliveryMismatchError';
}

/** A file of a version's folder, whether the store locates folders with a trailing `/` (S3) or not (paths). */
const fileIn = (folder: string, name: string) => (folder.endsWith('/') ? `${folder}${name}` : `${folder}/${name}`);

/**
 * Deliver, one Map iteration after every Snapshot: a published version is exported (members,
 * entered and exited, CSV and Parquet, then `latest.json`) and announced as `Cohort Refreshed`
 * with its counts and locations; a held version is announced as `Cohort Held` and not exported,
 * so downstream systems never act on members a check stopped. The event goes out only after the
 * export is complete, so every location it names exists. An unchanged cohort gets neither,
 * unless its version was published but never completely exported (a Deliver that failed after
 * Snapshot): then this run delivers it. Writes nothing under snapshots/: `current.json` is
 * Snapshot's alone.
 */
export async function deliverStep(event: DeliverEvent, ports: DeliverPorts): Promise<Delivery> {
  const { outcome } = event;
  const delivery = { cohort: outcome.cohort, version: outcome.version, status: outcome.status };
  const manifest = await ports.store.manifest(outcome.cohort, outcome.version);
  if (!manifest) throw new VersionNotFoundError(`cohort "${outcome.cohort}" has no complete version ${outcome.version} to deliver`);
  if (outcome.status === 'unchanged') {
    if (manifest.status !== 'published' || !(await exportMissing(manifest.cohort, manifest.version, ports.exports))) {
      return { ...delivery, event: null, exports: null };
    }
  } else if (manifest.lineage.run_id !== event.run_id) {
    throw new DeliveryMismatchError(
      `cohort "${outcome.cohort}" version ${outcome.version} was written by run ${manifest.lineage.run_id}, not by ${event.run_id}`,
    );
  }
  const folder = ports.store.locate(manifest.cohort, manifest.version);
  const snapshot: CohortVersionLocations = { snapshot: folder, manifest: fileIn(folder, 'manifest.json'), members: fileIn(folder, 'members.parquet') };
  let exports: ExportLocations | null = null;
  if (manifest.status === 'published') {
    const members = await ports.store.members(manifest.cohort, manifest.version);
    const previous = manifest.previous_version === null ? undefined : await ports.store.members(manifest.cohort, manifest.previous_version);
    const holdout = manifest.experiment ? await ports.store.holdout(manifest.cohort, manifest.version) : undefined;
    const lists = { cohort: manifest.cohort, version: manifest.version, asOf: manifest.as_of, members, ...changes(members, previous), ...(holdout ? { holdout } : {}) };
    // Versions are screened when written; this catches people listed or forgotten since.
    const privacy = runPrivacy(ports.privacy, event.config);
    exports = await ports.exports.write(privacy ? await exportScreen(privacy)(lists) : lists);
  }
  const announced = cohortVersionEvent(manifest, exports ? { ...snapshot, exports } : snapshot);
  await ports.events.publish([announced]);
  return { ...delivery, event: announced.detailType, exports };
}

/** Whether no export at or past this version is complete (`latest.json` is behind it or absent). */
async function exportMissing(cohort: string, version: number, exports: CohortExports): Promise<boolean> {
  const latest = await exports.latestVersion(cohort);
  return latest === undefined || latest < version;
}
