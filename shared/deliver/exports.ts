import type { BlobStore, MembersCodec } from '../ports.ts';
import { neutralizedCell } from '../csv-cell.ts';
import { EXPORTS_PREFIX } from '../bucket-layout.ts';
import { memoized } from '../store/members-memo.ts';

/**
 * Exports of cohort versions for downstream systems, in the same layout locally
 * (`<state>/exports/...`) and in the exports bucket:
 *
 * ```
 * exports/cohort=<id>/version=<N>/members.csv | members.parquet     every member
 * exports/cohort=<id>/version=<N>/entered.csv | entered.parquet     joined since the previous published version
 * exports/cohort=<id>/version=<N>/exited.csv  | exited.parquet      left since the previous published version
 * exports/cohort=<id>/version=<N>/treatment.csv | holdout.csv (and .parquet)   an experiment's split: act on treatment only
 * exports/cohort=<id>/latest.json                                   the newest exported version; only moves forward
 * exports/cohort=<id>/announced.json                                the newest version whose event was sent (written after the send)
 * ```
 */

/** One published cohort version to export: its members and the change against the previous published version. */
export interface CohortExport {
  readonly cohort: string;
  readonly version: number;
  /** The version's as-of instant, ISO-8601 UTC. */
  readonly asOf: string;
  /** Members, unique, in byte order. */
  readonly members: readonly string[];
  readonly entered: readonly string[];
  readonly exited: readonly string[];
  /** For a cohort with `program.holdout`: the members held out (treatment is every other member). */
  readonly holdout?: readonly string[];
}

/** Where an export was written: s3:// URIs in the cloud, paths locally (snake_case: events carry it). */
export interface ExportLocations {
  readonly folder: string;
  readonly members_csv: string;
  readonly entered_csv: string;
  readonly exited_csv: string;
  readonly members_parquet: string;
  readonly entered_parquet: string;
  readonly exited_parquet: string;
  /** An experiment's arms, when the version has a holdout split. */
  readonly treatment_csv?: string;
  readonly holdout_csv?: string;
  readonly treatment_parquet?: string;
  readonly holdout_parquet?: string;
  readonly latest: string;
}

/** `latest.json`: the newest exported version of a cohort, its counts and files. */
export interface LatestExport extends Omit<ExportLocations, 'latest'> {
  readonly cohort: string;
  readonly version: number;
  readonly as_of: string;
  readonly size: number;
  readonly entered: number;
  readonly exited: number;
}

/** Where downstream systems get published versions: the exports bucket, or `<state>/exports` locally. */
export interface CohortExports {
  /** Writes every file of the version, then points `latest.json` at it (never backwards). Rewriting gives the same bytes. */
  write(input: CohortExport): Promise<ExportLocations>;
  /** The version `latest.json` points at: the newest completely exported one, if any. */
  latestVersion(cohort: string): Promise<number | undefined>;
  /** The newest version whose event (`Cohort Refreshed` or `Cohort Held`) was sent, if any (`announced.json`). */
  announcedVersion(cohort: string): Promise<number | undefined>;
  /** Records, after its event was sent, that a version was announced (never moves backwards). */
  markAnnounced(cohort: string, version: number): Promise<void>;
}

/** Moves `latest.json` to a version unless a newer one is already there. */
export type LatestMover = (key: string, latest: LatestExport) => Promise<void>;

/** A cohort id or version that would make a strange key. */
export class InvalidExportError extends Error {
  override readonly name = 'InvalidExportError';
}

const COHORT_ID = /^[a-z][a-z0-9_]{2,62}$/;
const LISTS = ['members', 'entered', 'exited'] as const;

/** An experiment's arms as export lists: treatment (members not held out) and holdout, each in byte order. */
function armLists(members: readonly string[], holdout: readonly string[]): [string, readonly string[]][] {
  const held = new Set(holdout);
  return [
    ['treatment', members.filter((m) => !held.has(m))],
    ['holdout', members.filter((m) => held.has(m))],
  ];
}

/**
 * One CSV field: neutralized against spreadsheet formulas ({@link neutralizedCell}), then quoted as
 * RFC 4180 requires when it holds a comma, a quote, CR or LF.
 */
export function csvField(id: string): string {
  const value = neutralizedCell(id);
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * A one-column CSV: header `person_id`, one id a line. Lines end in LF, not RFC 4180's CRLF:
 * Athena's and Hive's text readers would keep the CR as part of the last column. The one CSV
 * writer of exports, local and in the exports bucket.
 */
export function personIdsCsv(ids: readonly string[]): string {
  return `person_id\n${ids.map((id) => `${csvField(id)}\n`).join('')}`;
}

/** The key of a cohort's `latest.json`. */
export const latestKey = (cohort: string): string => `${EXPORTS_PREFIX}cohort=${cohort}/latest.json`;

/** The key of a cohort's `announced.json`. */
const announcedKey = (cohort: string): string => `${EXPORTS_PREFIX}cohort=${cohort}/announced.json`;

/** The version a `latest.json` points at, or undefined when there is none (or it is unreadable). */
export function latestVersionOf(bytes: Uint8Array | undefined): number | undefined {
  if (!bytes) return undefined;
  const version = (JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<LatestExport>).version;
  return typeof version === 'number' ? version : undefined;
}

/** `latest.json`'s text. */
export const latestText = (latest: LatestExport): string => `${JSON.stringify(latest, null, 2)}\n`;

/** Moves `latest.json` by reading and writing it: enough where one process writes (the local world). */
export function forwardOnly(blobs: BlobStore): LatestMover {
  return async (key, latest) => {
    const at = latestVersionOf(await blobs.get(key));
    if (at === undefined || at <= latest.version) await blobs.put(key, latestText(latest));
  };
}

/**
 * Exports over any blob store: CSV and Parquet (the snapshot codec's one `person_id` column) of
 * members, entered and exited, all written before `latest.json` moves, so a reader following
 * `latest.json` never finds a file missing. Files are plain puts: a retried step rewrites the same bytes.
 */
export class BlobExports implements CohortExports {
  private readonly moveLatest: LatestMover;
  /** The codec, shared with the snapshot store built on it: a version's members are encoded once. */
  private readonly codec: MembersCodec;

  constructor(
    private readonly blobs: BlobStore,
    codec: MembersCodec,
    /** How `latest.json` moves; conditional writes where several writers race (S3). @default forwardOnly(blobs) */
    moveLatest?: LatestMover,
  ) {
    this.codec = memoized(codec);
    this.moveLatest = moveLatest ?? forwardOnly(blobs);
  }

  async latestVersion(cohort: string): Promise<number | undefined> {
    return latestVersionOf(await this.blobs.get(latestKey(cohort)));
  }

  async announcedVersion(cohort: string): Promise<number | undefined> {
    return latestVersionOf(await this.blobs.get(announcedKey(cohort)));
  }

  async markAnnounced(cohort: string, version: number): Promise<void> {
    const at = await this.announcedVersion(cohort);
    if (at === undefined || at < version) await this.blobs.put(announcedKey(cohort), `${JSON.stringify({ cohort, version })}\n`);
  }

  async write(input: CohortExport): Promise<ExportLocations> {
    if (!COHORT_ID.test(input.cohort)) throw new InvalidExportError(`not a cohort id: ${JSON.stringify(input.cohort)}`);
    if (!Number.isSafeInteger(input.version) || input.version < 1) throw new InvalidExportError(`not a version number: ${input.version}`);
    const folder = `${EXPORTS_PREFIX}cohort=${input.cohort}/version=${input.version}/`;
    const lists: [string, readonly string[]][] = LISTS.map((list) => [list, input[list]]);
    if (input.holdout) lists.push(...armLists(input.members, input.holdout));
    // Encoded one after another (in memory), then every file written at once.
    const files: [string, Uint8Array | string][] = [];
    for (const [list, ids] of lists) files.push([`${list}.csv`, personIdsCsv(ids)], [`${list}.parquet`, await this.codec.encode(ids)]);
    await Promise.all(files.map(([file, body]) => this.blobs.put(`${folder}${file}`, body)));
    const at = (file: string) => this.blobs.locate(`${folder}${file}`);
    const arms = input.holdout
      ? {
          treatment_csv: at('treatment.csv'),
          holdout_csv: at('holdout.csv'),
          treatment_parquet: at('treatment.parquet'),
          holdout_parquet: at('holdout.parquet'),
        }
      : {};
    const located: Omit<ExportLocations, 'latest'> = {
      folder: this.blobs.locate(folder),
      members_csv: at('members.csv'),
      entered_csv: at('entered.csv'),
      exited_csv: at('exited.csv'),
      members_parquet: at('members.parquet'),
      entered_parquet: at('entered.parquet'),
      exited_parquet: at('exited.parquet'),
      ...arms,
    };
    const key = latestKey(input.cohort);
    await this.moveLatest(key, {
      cohort: input.cohort,
      version: input.version,
      as_of: input.asOf,
      size: input.members.length,
      entered: input.entered.length,
      exited: input.exited.length,
      ...located,
    });
    return { ...located, latest: this.blobs.locate(key) };
  }
}
