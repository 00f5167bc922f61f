import { changes } from '../store/member-changes.ts';
import { cohortVersionEvent, type CohortVersionLocations } from '../deliver/events.ts';
import type { CohortExports, ExportLocations } from '../deliver/exports.ts';
import type { DeliverEvent } from './events.ts';
import { memberEvents } from '../deliver/member-events.ts';
import { memberEventsLeft } from '../deliver/run-budget.ts';
import { DEFAULT_CONFIG } from '../config/config.ts';
import { exportScreen } from '../privacy/export-screen.ts';
import type { Manifest } from '../store/manifest.ts';
import { VersionNotFoundError, type SnapshotStore } from '../store/snapshot-store.ts';
import { runPrivacy } from './run-config.ts';
import type { DeliverPorts, Delivery } from './types.ts';

/** The version the outcome names was not written by this run: the Map got another run's outcome. */
export class DeliveryMismatchError extends Error {
  override readonly name = 'DeliveryMismatchError';
}

/** A file of a version's folder, whether the store locates folders with a trailing `/` (S3) or not (paths). */
const fileIn = (folder: string, name: string) => (folder.endsWith('/') ? `${folder}${name}` : `${folder}/${name}`);

/**
 * Deliver, one Map iteration after every Snapshot: a published version is exported (members,
 * entered and exited, CSV and Parquet, then `latest.json`), its movers are announced one by one
 * (`Cohort Entered`, `Cohort Exited`; past what is left of the run's `events.member_events_max`, one
 * `Cohort Members Changed` naming the files), then the version as `Cohort Refreshed` with its counts and locations; a held version is announced as `Cohort Held` and not exported,
 * so downstream systems never act on members a check stopped. The event goes out only after the
 * export is complete, so every location it names exists, and `announced.json` records it after
 * the send. An unchanged cohort gets neither, unless a crash cut its delivery short: a version
 * exported but never announced is announced, one published but never completely exported is
 * exported and announced (at least once: a crash between the send and the record sends again).
 * A published version is exported only once `current.json` is at or past it (and it did not lose
 * the publish race), so exports never run ahead of current. Writes nothing under snapshots/:
 * `current.json` is Snapshot's alone.
 */
export async function deliverStep(event: DeliverEvent, ports: DeliverPorts): Promise<Delivery> {
  const { outcome } = event;
  const delivery = { cohort: outcome.cohort, version: outcome.version, status: outcome.status };
  const manifest = await ports.store.manifest(outcome.cohort, outcome.version);
  if (!manifest) throw new VersionNotFoundError(`cohort "${outcome.cohort}" has no complete version ${outcome.version} to deliver`);
  const published = manifest.status === 'published';
  if (published && !(await isOrWasCurrent(ports.store, manifest.cohort, manifest.version))) {
    if (outcome.status === 'unchanged') return { ...delivery, event: null, exports: null };
    throw new VersionNotCurrentError(
      `cohort "${manifest.cohort}" version ${manifest.version} is not current: it is neither exported nor announced`,
    );
  }
  if (outcome.status === 'unchanged') {
    const exported = !published || !(await exportMissing(manifest.cohort, manifest.version, ports.exports));
    const announced = await ports.exports.announcedVersion(manifest.cohort);
    if (exported && announced !== undefined && announced >= manifest.version) return { ...delivery, event: null, exports: null };
  } else if (manifest.lineage.run_id !== event.run_id) {
    throw new DeliveryMismatchError(
      `cohort "${outcome.cohort}" version ${outcome.version} was written by run ${manifest.lineage.run_id}, not by ${event.run_id}`,
    );
  }
  // Versions before it that a crash left undelivered (current moved, the export never did) go
  // first, oldest first, so a delta consumer gets every change once and in order.
  let earlierSent = 0;
  if (published) {
    for (const earlier of await undeliveredBefore(manifest, ports))
      earlierSent += (await exportAndAnnounce(earlier, event, ports)).member_events;
  }
  const { event: announced, exports, member_events } = await exportAndAnnounce(manifest, event, ports);
  return { ...delivery, event: announced, exports, member_events: earlierSent + member_events };
}

/**
 * Exports a published version (never a held one), then announces its movers and itself, then
 * records that it was announced. A crash before the record sends every event again (at least once).
 */
async function exportAndAnnounce(
  manifest: Manifest,
  event: DeliverEvent,
  ports: DeliverPorts,
): Promise<Pick<Delivery, 'event' | 'exports'> & { readonly member_events: number }> {
  const folder = ports.store.locate(manifest.cohort, manifest.version);
  const snapshot: CohortVersionLocations = {
    snapshot: folder,
    manifest: fileIn(folder, 'manifest.json'),
    members: fileIn(folder, 'members.parquet'),
  };
  let exports: ExportLocations | null = null;
  let sent = 0;
  if (manifest.status === 'published') {
    const members = await ports.store.members(manifest.cohort, manifest.version);
    const previous = manifest.previous_version === null ? undefined : await ports.store.members(manifest.cohort, manifest.previous_version);
    const holdout = manifest.experiment ? await ports.store.holdout(manifest.cohort, manifest.version) : undefined;
    const lists = {
      cohort: manifest.cohort,
      version: manifest.version,
      asOf: manifest.as_of,
      members,
      ...changes(members, previous),
      ...(holdout ? { holdout } : {}),
    };
    // Versions are screened when written; this catches people listed or forgotten since.
    const privacy = runPrivacy(ports.privacy, event.config);
    const screened = privacy ? await exportScreen(privacy)(lists) : lists;
    // Rewriting an export gives the same files, so an export found complete is written again only to learn its locations.
    exports = await ports.exports.write(screened);
    // Who moved, as exported (screened, so no one suppressed or forgotten is named), before the
    // version's own event: whoever got `Cohort Refreshed` was sent every member event before it.
    const max = event.config?.events?.member_events_max ?? DEFAULT_CONFIG.events.member_events_max;
    // The limit is per run: the versions before this one in the run's order used part of it.
    const { run_moves: runMoves, index } = event;
    const own = manifest.version === event.outcome.version;
    const left = own && runMoves !== undefined && index !== undefined ? memberEventsLeft(runMoves, index, max) : max;
    const { cohort, version, asOf, entered, exited } = screened;
    const movers = memberEvents({ cohort, version, asOf, runId: manifest.lineage.run_id, entered, exited, exports }, max, left);
    await ports.events.publish(movers);
    sent = movers.length;
  }
  const announced = cohortVersionEvent(manifest, exports ? { ...snapshot, exports } : snapshot);
  await ports.events.publish([announced]);
  await ports.exports.markAnnounced(manifest.cohort, manifest.version);
  return { event: announced.detailType, exports, member_events: sent };
}

/** How far back {@link undeliveredBefore} looks: a few crashed deliveries in a row, not a whole history. */
const UNDELIVERED_LOOKBACK = 10;

/**
 * The published versions before this one, on its chain of `previous_version`, that were current
 * but never announced (a Deliver that died, then a run with a new as-of), oldest first.
 */
async function undeliveredBefore(manifest: Manifest, ports: DeliverPorts): Promise<Manifest[]> {
  const [latest, announced] = await Promise.all([
    ports.exports.latestVersion(manifest.cohort),
    ports.exports.announcedVersion(manifest.cohort),
  ]);
  // What was announced; a state folder from before announced.json: what was exported.
  const delivered = announced ?? latest ?? 0;
  const found: Manifest[] = [];
  for (let at = manifest.previous_version; at !== null && at > delivered && found.length < UNDELIVERED_LOOKBACK; ) {
    const earlier = await ports.store.manifest(manifest.cohort, at);
    if (earlier?.status !== 'published') break;
    found.push(earlier);
    at = earlier.previous_version;
  }
  return found.reverse();
}

/** A published version Deliver was given is not current, nor was it ever: exporting it would run ahead of current.json. */
export class VersionNotCurrentError extends Error {
  override readonly name = 'VersionNotCurrentError';
}

/** Whether `current.json` is at or past a version that did not lose the publish race. */
async function isOrWasCurrent(store: SnapshotStore, cohort: string, version: number): Promise<boolean> {
  const current = await store.current(cohort);
  if (current === undefined || current < version) return false;
  return !(await store.lostVersions(cohort)).has(version);
}

/** Whether no export at or past this version is complete (`latest.json` is behind it or absent). */
async function exportMissing(cohort: string, version: number, exports: CohortExports): Promise<boolean> {
  const latest = await exports.latestVersion(cohort);
  return latest === undefined || latest < version;
}
