import type { CohortDefinition } from '../language/ast.ts';
import { formatProblem } from '../language/errors.ts';
import type { Manifest } from '../store/manifest.ts';
import { EXPORT_PARQUET_LIST } from './erase.ts';
import { fileValues } from './file-values.ts';
import { csvHeader, csvPersonIds } from './person-csv.ts';
import { personalPropertyProblems } from './personal-properties.ts';
import type { PrivacyPorts } from './ports.ts';
import { loadPrivacyLists, type PrivacyLists } from './screen.ts';
import { sweepOf, sweptKeys } from './sweep.ts';
import { forgottenInLists } from './list-erasure.ts';
import { erasureRecordKey, erasureRecords, recordName } from './erasure-records.ts';
import type { SweptFiles } from '../ports.ts';
import { EXPORTS_PREFIX } from '../bucket-layout.ts';

/** One thing the privacy check found; never carries an id, only counts and erasure record names. */
export interface PrivacyFinding {
  /** `unreadable`: a file whose bytes are neither Parquet, gzip nor text, so it cannot be checked. */
  readonly kind: 'forgotten' | 'suppressed' | 'personal_property' | 'unreadable' | 'incomplete_erasure';
  /** The file (path or s3:// URI), or the definition. */
  readonly location: string;
  readonly count: number;
  readonly message: string;
}

/** What the check looked at and what it found. */
export interface PrivacyReport {
  readonly versions: number;
  readonly exports: number;
  /**
   * Other files read: in a full check every file swept (crash leftovers, incomplete versions,
   * everything else); in a refresh's check the files erasures left holding a person.
   */
  readonly files: number;
  readonly findings: readonly PrivacyFinding[];
}

/** What to check. */
export interface PrivacyCheckScope {
  /**
   * The versions to check besides every cohort's current and newest one (a refresh passes the
   * versions it wrote). Absent: every stored version and every export.
   * @default - everything
   */
  readonly versions?: readonly { readonly cohort: string; readonly version: number }[];
  /** Definitions to check for compared personal properties. @default - none */
  readonly definitions?: readonly CohortDefinition[];
  /** Definition texts, for line and column. */
  readonly textOf?: (path: string) => string | undefined;
}

/** A file in a folder as `locate` gives it (a path without, an s3:// URI with a trailing slash). */
const inFolder = (folder: string, name: string) => `${folder.endsWith('/') ? folder : `${folder}/`}${name}`;

/** The files of a complete version the check reads by structure. */
const VERSION_LIST_OR_MANIFEST = /^snapshots\/cohort=[^/]+\/version=\d+\/(manifest\.json|members\.parquet)$/;
const EXPORT_VERSION = /(?:^|\/)cohort=([^/]+)\/version=(\d+)\//;
const versionKey = (cohort: string, version: number) => `${cohort}@${version}`;

/**
 * `cohorts privacy-check` and the check of every refresh: no forgotten person in any version,
 * manifest or export checked; no suppressed person in what downstream sees (each cohort's current
 * and newest version, the versions a run wrote, and their exports); no personal property as an
 * export column; no definition comparing a personal property with a value.
 *
 * The full check (no `versions` in the scope) also reads every other file of the swept areas
 * (the whole state folder locally) by what its bytes are, for forgotten people, and names each
 * file it cannot read.
 *
 * Suppression applies from the moment a person is listed: older versions keep the members they
 * were published with (only a deletion request rewrites history), so they are not checked for it.
 */
export async function privacyCheck(ports: PrivacyPorts, scope: PrivacyCheckScope = {}): Promise<PrivacyReport> {
  const lists = await loadPrivacyLists(ports);
  const findings: PrivacyFinding[] = [];
  const everything = scope.versions === undefined;
  const forgottenScope = new Set<string>();
  const suppressedScope = new Set<string>(scope.versions?.map((v) => versionKey(v.cohort, v.version)));
  let versions = 0;
  for (const cohort of await ports.store.cohorts()) {
    const manifests = await ports.store.manifests(cohort);
    const current = await ports.store.current(cohort);
    const newest = manifests.at(-1)?.version;
    for (const v of [current, newest]) if (v !== undefined) suppressedScope.add(versionKey(cohort, v));
    for (const manifest of manifests) {
      const key = versionKey(cohort, manifest.version);
      if (everything || suppressedScope.has(key)) forgottenScope.add(key);
      if (!forgottenScope.has(key)) continue;
      versions++;
      const folder = ports.store.locate(cohort, manifest.version);
      findings.push(...manifestFindings(manifest, lists, inFolder(folder, 'manifest.json')));
      if (lists.forgotten.size === 0 && lists.suppressed.size === 0) continue;
      const members = await ports.store.members(cohort, manifest.version);
      findings.push(...memberFindings(members, lists, inFolder(folder, 'members.parquet'), suppressedScope.has(key)));
    }
  }
  const exports = ports.exports ? await exportFindings(ports, lists, { everything, forgottenScope, suppressedScope }, findings) : 0;
  const files = everything ? await sweepFindings(ports, lists, findings) : await leftFileFindings(ports, lists, findings);
  if (everything) findings.push(...(await incompleteErasures(ports)));
  for (const { location, record } of ports.lists ? await forgottenInLists(ports.lists, lists) : []) {
    findings.push({ kind: 'forgotten', location, count: 1, message: `${location} holds a forgotten person (erasure record ${record})` });
  }
  for (const problem of personalPropertyProblems(scope.definitions ?? [], ports.settings.personal_properties, scope.textOf)) {
    findings.push({ kind: 'personal_property', location: problem.file, count: 1, message: formatProblem(problem) });
  }
  return { versions, exports, files, findings };
}

function memberFindings(ids: readonly string[], lists: PrivacyLists, location: string, checkSuppressed: boolean): PrivacyFinding[] {
  const findings: PrivacyFinding[] = [];
  const records = new Map<string, number>();
  let suppressed = 0;
  for (const id of ids) {
    const record = lists.forgottenRecord(id);
    if (record !== undefined) records.set(record, (records.get(record) ?? 0) + 1);
    else if (checkSuppressed && lists.isSuppressed(id)) suppressed++;
  }
  for (const [record, count] of records) {
    findings.push({ kind: 'forgotten', location, count, message: `${location} holds a forgotten person (erasure record ${record})` });
  }
  if (suppressed > 0) {
    findings.push({
      kind: 'suppressed',
      location,
      count: suppressed,
      message: `${location} holds ${suppressed} suppressed ${suppressed === 1 ? 'person' : 'people'} (refresh the cohort with --force to publish a version without them)`,
    });
  }
  return findings;
}

/** Every text of a manifest, and the quoted literals of its lineage query, against the forgotten hashes. */
function manifestFindings(manifest: Manifest, lists: PrivacyLists, location: string): PrivacyFinding[] {
  if (lists.forgotten.size === 0) return [];
  const texts = new Set<string>();
  const collect = (value: unknown): void => {
    if (typeof value === 'string') texts.add(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(manifest);
  for (const match of manifest.lineage.query.matchAll(/'((?:[^']|'')*)'/g)) texts.add((match[1] as string).replaceAll("''", "'"));
  const records = new Set([...texts].map((text) => lists.forgottenRecord(text)).filter((r): r is string => r !== undefined));
  return [...records].map((record) => ({
    kind: 'forgotten' as const,
    location,
    count: 1,
    message: `${location} holds the id of a forgotten person in its text (erasure record ${record})`,
  }));
}

async function exportFindings(
  ports: PrivacyPorts,
  lists: PrivacyLists,
  scope: { readonly everything: boolean; readonly forgottenScope: ReadonlySet<string>; readonly suppressedScope: ReadonlySet<string> },
  findings: PrivacyFinding[],
): Promise<number> {
  const exports = ports.exports;
  if (!exports) return 0;
  const personal = new Set(ports.settings.personal_properties);
  let checked = 0;
  for (const key of await exports.list(EXPORTS_PREFIX)) {
    const at = EXPORT_VERSION.exec(key);
    const version = at ? versionKey(at[1] as string, Number(at[2])) : undefined;
    const forForgotten = scope.everything || (version !== undefined && scope.forgottenScope.has(version));
    if (!forForgotten) continue;
    const isCsv = key.endsWith('.csv');
    if (!isCsv && !EXPORT_PARQUET_LIST.test(key)) continue;
    const bytes = await exports.get(key);
    if (!bytes) continue;
    checked++;
    const location = exports.locate(key);
    const checkSuppressed = version !== undefined && scope.suppressedScope.has(version);
    if (isCsv) {
      const text = Buffer.from(bytes).toString('utf8');
      const columns = csvHeader(text).filter((column) => personal.has(column));
      for (const column of columns) {
        findings.push({
          kind: 'personal_property',
          location,
          count: 1,
          message: `${location} has a column "${column}", a personal property (privacy.personal_properties)`,
        });
      }
      const ids = lists.forgotten.size + lists.suppressed.size > 0 ? csvPersonIds(text) : undefined;
      if (ids) findings.push(...memberFindings(ids, lists, location, checkSuppressed));
    } else if (lists.forgotten.size + lists.suppressed.size > 0) {
      findings.push(...memberFindings(await ports.codec.decode(bytes), lists, location, checkSuppressed));
    }
  }
  return checked;
}

/** Every file of the swept areas but the versions' members and manifests and the export lists read above. */
async function sweepFindings(ports: PrivacyPorts, lists: PrivacyLists, findings: PrivacyFinding[]): Promise<number> {
  const readAbove = (key: string) =>
    VERSION_LIST_OR_MANIFEST.test(key) || (EXPORT_VERSION.test(key) && (key.endsWith('.csv') || EXPORT_PARQUET_LIST.test(key)));
  let read = 0;
  for await (const { files, key, leftover } of sweptKeys(sweepOf(ports))) {
    if (readAbove(key) && !leftover) continue;
    if (await fileFindings(files, key, lists, findings)) read++;
  }
  return read;
}

/**
 * The files erasures named as left holding a person (`left_files` of their records), read again
 * by every check, so a refresh keeps reporting them until someone removed the person by hand.
 */
async function leftFileFindings(ports: PrivacyPorts, lists: PrivacyLists, findings: PrivacyFinding[]): Promise<number> {
  const areas = sweepOf(ports);
  let read = 0;
  const keys = new Set((await erasureRecords(ports)).flatMap((record) => record.left_files ?? []));
  for (const key of keys) {
    const area = areas.find((a) => a.prefixes.some((prefix) => key.startsWith(prefix)));
    if (area && (await fileFindings(area.files, key, lists, findings))) read++;
  }
  return read;
}

/** One file read by what its bytes are: a forgotten person in it, or the file unreadable. False when it does not exist. */
async function fileFindings(files: SweptFiles, key: string, lists: PrivacyLists, findings: PrivacyFinding[]): Promise<boolean> {
  const bytes = await files.get(key);
  if (!bytes) return false;
  const location = files.locate(key);
  const values = await fileValues(key, bytes);
  if ('undecodable' in values) {
    findings.push({
      kind: 'unreadable',
      location,
      count: 1,
      message: `${location} could not be read (${values.undecodable}), so it was not checked`,
    });
    return true;
  }
  if (lists.forgotten.size === 0) return true;
  const records = new Set([...values.values].map((text) => lists.forgottenRecord(text)).filter((r): r is string => r !== undefined));
  for (const record of records)
    findings.push({ kind: 'forgotten', location, count: 1, message: `${location} holds a forgotten person (erasure record ${record})` });
  return true;
}

/**
 * Erasures that started and never completed (a `cohorts forget` killed part-way): what they had rewritten
 * may leave counts that disagree with the member files, which only forgetting the person again repairs.
 */
async function incompleteErasures(ports: PrivacyPorts): Promise<PrivacyFinding[]> {
  return (await erasureRecords(ports))
    .filter((record) => record.completed_at === null)
    .map((record) => {
      const hash = record.person_hashes[0] as string;
      const location = ports.blobs.locate(erasureRecordKey(hash));
      const message = `${location}: the erasure of record ${recordName(hash)}, requested ${record.requested_at}, never completed (stopped part-way): forget the person again (\`cohorts forget ID\`) to finish it`;
      return { kind: 'incomplete_erasure' as const, location, count: 1, message };
    });
}
