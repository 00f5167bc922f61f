import { basename, extname } from 'node:path/posix';
import type { CohortEvents } from '../deliver/events.ts';
import { ConfigError, CONFIG_FILE, type ProjectConfig } from '../config/config.ts';
import { parseCloudConfig } from '../config/cloud-config.ts';
import { buildCatalog, type Catalog } from '../language/catalog.ts';
import { type DefinitionProblem, formatProblem, MAX_SHOWN_CHARS, shownValue } from '../language/errors.ts';
import { parseDefinition } from '../language/parse-definition.ts';
import type { Alert, BlobStore, Notifier } from '../ports.ts';
import { personalPropertyProblems } from '../privacy/personal-properties.ts';
import { bucketConfig } from '../store/config-source.ts';
import { blobActionFiles, blobDefinitionFiles, blobListFiles, type DefinitionFile } from '../store/definitions-source.ts';
import {
  DEFINITION_CHANGE_TRIGGER,
  definitionChangeRefresh,
  LIST_CHANGE_TRIGGER,
  type RefreshInput,
  type RefreshStarter,
} from '../refresh-request.ts';
import { ACTIONS_FOLDER, buildActions, type SourceText } from '../language/actions.ts';
import { actionsUsed } from '../language/resolve-actions.ts';
import { cohortGraph } from '../language/graph.ts';
import { decisionCommand, type DecisionInstructions } from '../governance/decision-command.ts';
import { changedGovernedSections, type GovernedSection } from '../governance/governed-settings.ts';
import { CONFIG_DECISION_ID, configHash, keepPendingConfig, locatePendingConfig } from '../governance/pending-config.ts';
import { INCOMING_PREFIX } from '../bucket-layout.ts';
import { leaves } from '../language/condition-leaves.ts';
import { LISTS_FOLDER } from '../language/uploaded-lists.ts';

/** One uploaded definition. */
export interface DefinitionUpload {
  /** Its key in the definitions store, e.g. `incoming/power_users.yaml`. */
  readonly key: string;
  /**
   * The upload's id (the S3 notification's event id): it names the refresh the upload starts,
   * so a notification delivered twice never starts two.
   */
  readonly id: string;
  /** Its size in bytes as the notification gives it (`detail.object.size`), checked before reading. */
  readonly size?: number;
}

/**
 * The largest upload read: 1 MiB. A definition of 5,000 conditions is about 150 kB; anything larger
 * is refused from the notification's size, before a byte is read into the function's memory.
 */
export const MAX_UPLOAD_BYTES = 1024 * 1024;

/**
 * The largest uploaded list read: 32 MiB, about a million e-mail addresses. A list is data, not a
 * definition, so it may be larger; it is still refused from the notification's size before reading.
 */
export const MAX_LIST_UPLOAD_BYTES = 32 * 1024 * 1024;

/** Ports of the upload trigger. */
export interface DefinitionUploadPorts {
  /** The definitions bucket (a folder locally): the live catalog at its top level, uploads under `incoming/`. */
  readonly definitions: BlobStore;
  readonly refresh: RefreshStarter;
  readonly notifier: Notifier;
  readonly events: CohortEvents;
  /**
   * Where the live project config is, which an upload of `incoming/cohorts.config.yaml` replaces
   * and every definition upload is validated against (personal properties).
   * @default - `cohorts.config.yaml` at the top level of `definitions`
   */
  readonly config?: { readonly store: BlobStore; readonly key: string };
  /**
   * How the owner decides a config upload that waits for an approval, as its alert says.
   * @default - in the cloud (`--cloud --hash`)
   */
  readonly decisions?: DecisionInstructions;
}

/** What an upload led to. */
export type UploadOutcome =
  | {
      readonly status: 'accepted';
      /** The cohort defined; null for the project config, a named action or an uploaded list. */
      readonly cohort: string | null;
      /** Where the definition now lives in the catalog. */
      readonly promoted_to: string;
      /** The refresh started: the cohort and its dependants; null for a deprecated cohort, which is not refreshed. */
      readonly refresh: { readonly cohorts: readonly string[]; readonly execution: string } | null;
    }
  | { readonly status: 'unchanged'; readonly cohort: string | null; readonly path: string }
  | {
      readonly status: 'pending';
      readonly cohort: null;
      /** Where the config waits for an approval (the live config is unchanged). */
      readonly pending: string;
      /** Its sha256, which the approval names. */
      readonly hash: string;
      /** The governed sections it changes. */
      readonly sections: readonly GovernedSection[];
      /** The command that approves it. */
      readonly approve: string;
    }
  | { readonly status: 'rejected'; readonly cohort: string | null; readonly errors: readonly string[] }
  | { readonly status: 'gone'; readonly key: string };

const DEFINITION_NAME = /^[^/]+\.ya?ml$/;
/** A named action, uploaded as `incoming/actions/<id>.yaml`. */
const ACTION_NAME = new RegExp(`^${ACTIONS_FOLDER}/[^/]+\\.ya?ml$`);
/** An uploaded list, `incoming/lists/<name>.csv` (its name is checked as the list file's). */
const LIST_NAME = new RegExp(`^${LISTS_FOLDER}/[^/]+$`);
/** Control characters, which no blob key may hold. */
const CONTROL = /[\p{Cc}]/u;

/** A key as messages show it: as given, or quoted and cut when it holds control characters or is long. */
const keyShown = (key: string) => (CONTROL.test(key) || key.length > MAX_SHOWN_CHARS ? shownValue(key) : key);

/** The largest upload of that name read: a list's, or any other file's. */
const limitOf = (name: string) => (LIST_NAME.test(name) ? MAX_LIST_UPLOAD_BYTES : MAX_UPLOAD_BYTES);
const tooLarge = (file: string, bytes: number, limit: number): DefinitionProblem => ({
  file,
  message: `is ${bytes} bytes: an upload may be at most ${limit} bytes (${limit / (1024 * 1024)} MiB)`,
});
const stemOf = (key: string) => basename(key, extname(key));

/** An execution name Step Functions accepts: 1 to 80 letters, digits, `-` and `_`. */
export const executionNameOf = (upload: DefinitionUpload): string => `upload-${upload.id.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 80);

/**
 * An analyst uploaded a definition under `incoming/`. The whole catalog is validated as it would
 * be with that file (SPEC 3 and 4: every file, references, cycles). Valid: the file is copied
 * into the live catalog (over the file of the same id) and a refresh of that cohort and every
 * cohort that depends on it starts, with trigger `definition-change` and its change_reason as
 * rationale. Invalid: an alert with the `path:line:col` errors and a `Definition Rejected`
 * event, and nothing else changes: the live catalog, which the schedules refresh, stays valid.
 * Copying comes before starting, so a retry after a failed start copies the same bytes again.
 * Definitions are validated against the live project config too (personal properties), and an
 * upload of `incoming/cohorts.config.yaml` replaces that config (see handleConfigUpload).
 */
export async function handleDefinitionUpload(upload: DefinitionUpload, ports: DefinitionUploadPorts): Promise<UploadOutcome> {
  // The key and size are checked before reading: a key the store refuses (`..`, control
  // characters) or an object too large to hold is a rejection the uploader hears of, not a throw.
  const name = upload.key.slice(INCOMING_PREFIX.length);
  if (
    !upload.key.startsWith(INCOMING_PREFIX) ||
    !(DEFINITION_NAME.test(name) || ACTION_NAME.test(name) || LIST_NAME.test(name)) ||
    CONTROL.test(upload.key)
  ) {
    // Not located: the store refuses such keys, and a `..` would be resolved away.
    const path = keyShown(upload.key);
    return reject(
      upload,
      path,
      null,
      [
        {
          file: path,
          message: `upload definitions as ${INCOMING_PREFIX}<id>.yaml, named actions as ${INCOMING_PREFIX}${ACTIONS_FOLDER}/<id>.yaml, lists as ${INCOMING_PREFIX}${LISTS_FOLDER}/<name>.csv (one file, no other sub-folder, no control characters)`,
        },
      ],
      ports,
    );
  }
  const path = ports.definitions.locate(upload.key);
  const limit = limitOf(name);
  if (upload.size !== undefined && upload.size > limit) return reject(upload, path, null, [tooLarge(path, upload.size, limit)], ports);
  const bytes = await ports.definitions.get(upload.key);
  if (bytes === undefined) return { status: 'gone', key: upload.key };
  if (bytes.byteLength > limit) return reject(upload, path, null, [tooLarge(path, bytes.byteLength, limit)], ports);
  const text = Buffer.from(bytes).toString('utf8');
  const live = await blobDefinitionFiles(ports.definitions);
  const liveActions = await blobActionFiles(ports.definitions);
  // The live lists: every list leaf must name one, as a refresh reads them.
  const liveLists = await blobListFiles(ports.definitions);
  if (name === CONFIG_FILE) return handleConfigUpload(upload, { path, text }, { live, liveActions, liveLists }, ports);
  if (ACTION_NAME.test(name)) return handleActionUpload(upload, { name, path, text }, { live, liveActions, liveLists }, ports);
  if (LIST_NAME.test(name)) return handleListUpload(upload, { name, path, text }, { live, liveActions, liveLists }, ports);
  const replaced = live.find((file) => stemOf(file.key) === stemOf(name));
  const files = [...live.filter((file) => file !== replaced), { path, text }];
  const config = await liveConfig(ports);
  const parsed = parseDefinition(text, path, buildActions(liveActions).actions);
  const cohort = parsed.ok ? parsed.definition.id : null;
  if (!config.ok) return reject(upload, path, cohort, config.problems, ports);
  const catalog = buildCatalog(files, liveActions, liveLists);
  const problems = [...catalog.problems, ...configProblems(catalog, files, config.config)];
  if (problems.length > 0) return reject(upload, path, cohort, problems, ports);

  const definition = catalog.definitions.find((d) => d.path === path);
  if (!definition) throw new Error(`the validated catalog lost ${path}`);
  const target = replaced?.key ?? name;
  if (replaced?.text === text) return { status: 'unchanged', cohort: definition.id, path: replaced.path };
  await ports.definitions.put(target, text);
  const promoted = ports.definitions.locate(target);
  if (definition.deprecated) return { status: 'accepted', cohort: definition.id, promoted_to: promoted, refresh: null };

  const input = definitionChangeRefresh(catalog.definitions, definition.id, definition.change_reason);
  const execution = await ports.refresh.start(input, executionNameOf(upload));
  return { status: 'accepted', cohort: definition.id, promoted_to: promoted, refresh: { cohorts: input.cohorts, execution } };
}

const configLocation = (ports: DefinitionUploadPorts) => ports.config ?? { store: ports.definitions, key: CONFIG_FILE };

/** The live project config, as the cloud reads it; its problems when it is invalid. */
async function liveConfig(
  ports: DefinitionUploadPorts,
): Promise<{ ok: true; config: ProjectConfig } | { ok: false; problems: readonly DefinitionProblem[] }> {
  const { store, key } = configLocation(ports);
  try {
    return { ok: true, config: await bucketConfig(store, key)() };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, problems: error.problems };
    throw error;
  }
}

/** What the config makes invalid in a catalog: a definition comparing a personal property with a value. */
function configProblems(
  catalog: Catalog,
  files: readonly { readonly path: string; readonly text: string }[],
  config: ProjectConfig,
): DefinitionProblem[] {
  const texts = new Map(files.map((file) => [file.path, file.text]));
  return personalPropertyProblems(catalog.definitions, config.privacy.personal_properties, (file) => texts.get(file));
}

/**
 * An upload of the project config (`incoming/cohorts.config.yaml`): valid as the cloud reads it
 * (parseCloudConfig), with the live catalog valid under it (personal properties), it replaces the
 * live config, which the next refresh reads (none is started: every cohort would be); else it is
 * rejected like a definition, and nothing changes. One that changes `privacy` or `guardrails` (see
 * GOVERNED_SECTIONS) waits for an approval like a core cohort's change: it is kept as the pending
 * config (replacing any that waited), the live config stays, and the owner gets a `warn` alert
 * naming the sections and the `cohorts approve cohorts.config.yaml` command. No event is sent:
 * nothing was rejected or accepted yet.
 */
async function handleConfigUpload(
  upload: DefinitionUpload,
  file: { readonly path: string; readonly text: string },
  { live, liveActions, liveLists }: LiveFiles,
  ports: DefinitionUploadPorts,
): Promise<UploadOutcome> {
  let config: ProjectConfig;
  try {
    config = parseCloudConfig(file.text, file.path);
  } catch (error) {
    if (error instanceof ConfigError) return reject(upload, file.path, null, error.problems, ports);
    throw error;
  }
  const catalog = buildCatalog(live, liveActions, liveLists);
  const problems = [...catalog.problems, ...configProblems(catalog, live, config)];
  if (problems.length > 0) return reject(upload, file.path, null, problems, ports);
  const location = configLocation(ports);
  const { store, key } = location;
  const current = await store.get(key);
  const currentText = current === undefined ? undefined : Buffer.from(current).toString('utf8');
  if (currentText === file.text) return { status: 'unchanged', cohort: null, path: store.locate(key) };
  const sections = changedGovernedSections(file.text, currentText);
  if (sections.length === 0) {
    await store.put(key, file.text);
    return { status: 'accepted', cohort: null, promoted_to: store.locate(key), refresh: null };
  }
  const hash = configHash(file.text);
  await keepPendingConfig(location, {
    hash,
    text: file.text,
    base: currentText === undefined ? null : configHash(currentText),
    sections,
    upload: upload.key,
    upload_id: upload.id,
    at: new Date().toISOString(),
  });
  const where = ports.decisions ?? { cloud: true };
  const outcome = {
    status: 'pending',
    cohort: null,
    pending: locatePendingConfig(location),
    hash,
    sections,
    approve: decisionCommand('approve', CONFIG_DECISION_ID, hash, where),
  } as const;
  await ports.notifier.notify(
    pendingConfigAlert(upload, store.locate(key), outcome, decisionCommand('reject', CONFIG_DECISION_ID, hash, where)),
  );
  return outcome;
}

/**
 * An upload of a named action (`incoming/actions/<id>.yaml`): the whole catalog is validated with
 * it in place of the action of that name. Valid: it replaces that action under `actions/` and a
 * refresh starts of every live cohort that uses it and of their dependants (an action change is a
 * definition change of each); none when no cohort uses it. Invalid: rejected like a definition.
 */
async function handleActionUpload(
  upload: DefinitionUpload,
  file: { readonly name: string; readonly path: string; readonly text: string },
  { live, liveActions, liveLists }: LiveFiles,
  ports: DefinitionUploadPorts,
): Promise<UploadOutcome> {
  const replaced = liveActions.find((action) => stemOf(action.key) === stemOf(file.name));
  const checked = await catalogWith(upload, file.path, { live, liveActions: replacing(liveActions, replaced, file), liveLists }, ports);
  if ('rejected' in checked) return checked.rejected;
  const { catalog } = checked;
  if (replaced?.text === file.text) return { status: 'unchanged', cohort: null, path: replaced.path };
  const target = replaced?.key ?? file.name;
  await ports.definitions.put(target, file.text);
  const promoted = ports.definitions.locate(target);
  const id = stemOf(file.name);
  const users = catalog.definitions.filter((d) => !d.deprecated && actionsUsed(d.rule).includes(id)).map((d) => d.id);
  return refreshReaders(
    upload,
    catalog,
    users,
    { trigger: DEFINITION_CHANGE_TRIGGER, rationale: `action "${id}" changed` },
    promoted,
    ports,
  );
}

/**
 * An upload of a list (`incoming/lists/<name>.csv`): read as a refresh reads it (the same
 * normalization and `file:line` problems as locally), the whole catalog validated with it in place
 * of the list of that name. Valid: it replaces that list under `lists/` and a refresh starts of
 * every live cohort that reads it and of their dependants (trigger `list-change`; none when no
 * cohort reads it). Invalid: rejected like a definition, and the previous list stays.
 */
async function handleListUpload(
  upload: DefinitionUpload,
  file: { readonly name: string; readonly path: string; readonly text: string },
  { live, liveActions, liveLists }: LiveFiles,
  ports: DefinitionUploadPorts,
): Promise<UploadOutcome> {
  const replaced = liveLists.find((list) => list.key === file.name);
  const checked = await catalogWith(upload, file.path, { live, liveActions, liveLists: replacing(liveLists, replaced, file) }, ports);
  if ('rejected' in checked) return checked.rejected;
  const { catalog } = checked;
  if (replaced?.text === file.text) return { status: 'unchanged', cohort: null, path: replaced.path };
  await ports.definitions.put(file.name, file.text);
  const promoted = ports.definitions.locate(file.name);
  const name = stemOf(file.name);
  const readers = catalog.definitions
    .filter((d) => !d.deprecated && leaves(d.rule).some((leaf) => leaf.kind === 'list' && leaf.name === name))
    .map((d) => d.id);
  return refreshReaders(upload, catalog, readers, { trigger: LIST_CHANGE_TRIGGER, rationale: `list "${name}" changed` }, promoted, ports);
}

/** The live catalog's files an upload is validated with. */
interface LiveFiles {
  readonly live: readonly DefinitionFile[];
  readonly liveActions: readonly DefinitionFile[];
  readonly liveLists: readonly DefinitionFile[];
}

/** The files with the uploaded one in place of the live file it replaces (if any). */
const replacing = (files: readonly SourceText[], replaced: SourceText | undefined, file: SourceText) => [
  ...files.filter((live) => live !== replaced),
  file,
];

/** The catalog of these files, valid under the live config, or the upload's rejection. */
async function catalogWith(
  upload: DefinitionUpload,
  path: string,
  { live, liveActions, liveLists }: { readonly [folder in keyof LiveFiles]: readonly SourceText[] },
  ports: DefinitionUploadPorts,
): Promise<{ readonly catalog: Catalog } | { readonly rejected: UploadOutcome }> {
  const config = await liveConfig(ports);
  if (!config.ok) return { rejected: await reject(upload, path, null, config.problems, ports) };
  const catalog = buildCatalog(live, liveActions, liveLists);
  const problems = [...catalog.problems, ...configProblems(catalog, live, config.config)];
  if (problems.length > 0) return { rejected: await reject(upload, path, null, problems, ports) };
  return { catalog };
}

/**
 * An accepted action or list: a refresh of the live cohorts that read it and of their dependants,
 * none when no cohort reads it.
 */
async function refreshReaders(
  upload: DefinitionUpload,
  catalog: Catalog,
  readers: readonly string[],
  why: Pick<RefreshInput, 'trigger' | 'rationale'>,
  promoted: string,
  ports: DefinitionUploadPorts,
): Promise<UploadOutcome> {
  if (readers.length === 0) return { status: 'accepted', cohort: null, promoted_to: promoted, refresh: null };
  const dependants = new Set(cohortGraph(catalog.definitions).closure(readers, 'dependants'));
  const cohorts = [...readers, ...catalog.definitions.filter((d) => !d.deprecated && dependants.has(d.id)).map((d) => d.id)];
  const execution = await ports.refresh.start({ ...why, cohorts }, executionNameOf(upload));
  return { status: 'accepted', cohort: null, promoted_to: promoted, refresh: { cohorts, execution } };
}

/** The alert of a config upload that waits for an approval: what it changes, where it is, how to decide. */
function pendingConfigAlert(
  upload: DefinitionUpload,
  live: string,
  pending: Extract<UploadOutcome, { status: 'pending' }>,
  rejectCommand: string,
): Alert {
  const sections = pending.sections.join(' and ');
  return {
    severity: 'warn',
    title: `Config upload waits for an approval: it changes ${sections}`,
    body: [
      `The config uploaded to ${keyShown(upload.key)} changes ${sections} of the live config (${live}), which only an approval may change,`,
      `so the live config is unchanged and the upload waits in ${pending.pending} (hash ${pending.hash.slice(0, 12)}). A newer config upload replaces it.`,
      '',
      `Approve (it becomes the live config): ${pending.approve}`,
      `Reject (it is discarded): ${rejectCommand}`,
    ].join('\n'),
    run_id: upload.id,
    cohorts: [],
    details: { path: upload.key, location: pending.pending, hash: pending.hash, sections: pending.sections, approve: pending.approve },
  };
}

async function reject(
  upload: DefinitionUpload,
  path: string,
  cohort: string | null,
  problems: readonly DefinitionProblem[],
  ports: DefinitionUploadPorts,
): Promise<UploadOutcome> {
  const errors = problems.map(formatProblem);
  await ports.notifier.notify(rejectionAlert(upload, path, cohort, errors));
  await ports.events.publish([
    {
      detailType: 'Definition Rejected',
      detail: { status: 'rejected', cohort, path: upload.key, location: path, errors, run_id: upload.id },
    },
  ]);
  return { status: 'rejected', cohort, errors };
}

/** The alert an analyst gets back: every error on its own line, and what to do. */
export function rejectionAlert(upload: DefinitionUpload, path: string, cohort: string | null, errors: readonly string[]): Alert {
  const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
  return {
    severity: 'fail',
    title: `Definition rejected: ${keyShown(upload.key)} (${count})`,
    body: [
      `The definition uploaded to ${path} was not accepted, so the catalog is unchanged and no refresh started.`,
      '',
      ...errors,
      '',
      'Fix the file and upload it again. `npx cohorts validate` shows the same errors locally.',
    ].join('\n'),
    run_id: upload.id,
    cohorts: cohort ? [cohort] : [],
    details: { path: upload.key, location: path, errors },
  };
}
