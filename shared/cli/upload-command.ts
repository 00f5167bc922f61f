import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import pc from 'picocolors';
import { loadConfig } from '../config/config.ts';
import { ACTIONS_FOLDER } from '../language/actions.ts';
import { loadCatalog } from '../language/catalog.ts';
import { TerminalNotifier } from '../local/terminal-notifier.ts';
import { FsBlobStore } from '../local/fs-blob-store.ts';
import { unreadableFile } from '../language/errors.ts';
import { LOCAL_DECISIONS } from '../governance/decision-command.ts';
import { handleDefinitionUpload, MAX_LIST_UPLOAD_BYTES, MAX_UPLOAD_BYTES } from '../uploads/definition-upload.ts';
import { LISTS_FOLDER } from '../language/uploaded-lists.ts';
import { runRefreshStateMachine } from '../workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import type { WorkflowSummary } from '../workflow/types.ts';
import { openLocalPorts } from '../local/local-ports.ts';
import { writeReportFiles } from './commands.ts';
import { UsageError } from './errors.ts';
import { formatRunSummary } from './format.ts';
import type { Folders, Output } from './io.ts';
import type { RefreshStarter } from '../refresh-request.ts';
import { INCOMING_PREFIX } from '../bucket-layout.ts';

/**
 * `cohorts upload FILE`: what uploading FILE to the definitions bucket does, on the local folders.
 * A `cohorts.config.yaml` is validated as the cloud reads it, with the catalog under it, and then
 * replaces the `--config` file (no refresh starts); one that changes `privacy` or `guardrails`
 * waits for `cohorts approve cohorts.config.yaml` instead (exit 0, the config unchanged).
 * FILE is copied to `<definitions>/incoming/` (a file in a folder named `actions/`, a named action, to
 * `<definitions>/incoming/actions/`; a `.csv` file, an uploaded list, to `<definitions>/incoming/lists/`)
 * and handled by the cloud's own upload logic: the
 * whole catalog is validated with it; a valid file replaces the catalog's file of that id and a
 * refresh of it and its dependants runs (trigger `definition-change`) through the local state
 * machine; an invalid one raises an alert and a `Definition Rejected` event, and changes nothing.
 * Exit 0 when accepted (or already in the catalog), 1 when rejected.
 */
export async function uploadCommand(folders: Folders, file: string, io: Output): Promise<number> {
  const isList = extname(file) === '.csv';
  const unreadable = (error: NodeJS.ErrnoException): never => {
    const what = isList ? 'a list (.csv)' : 'a definition file';
    throw new UsageError(
      `${file}: ${error.code === 'ENOENT' ? 'no such file; cohorts upload reads a definition, a named action or cohorts.config.yaml (.yaml), or a list (.csv)' : unreadableFile(error, what)}`,
    );
  };
  const { size } = await stat(file).catch(unreadable);
  // Too large: rejected from its size like an upload to the bucket, without copying it. Copied as
  // bytes: the handler reads them as the bucket's object (invalid UTF-8 in a list is its problem).
  const bytes = size > (isList ? MAX_LIST_UPLOAD_BYTES : MAX_UPLOAD_BYTES) ? undefined : await readFile(file).catch(unreadable);
  const local = await openLocalPorts(folders, await loadConfig(folders.config));
  const notifier = new TerminalNotifier((line) => io.err(line), local.notifier);
  const definitions = new FsBlobStore(folders.definitions);
  // A file in a folder named actions/ is a named action, uploaded as the bucket's incoming/actions/<id>.yaml.
  const isAction = basename(dirname(resolve(file))) === ACTIONS_FOLDER;
  const folder = isList ? `${LISTS_FOLDER}/` : isAction ? `${ACTIONS_FOLDER}/` : '';
  const key = `${INCOMING_PREFIX}${folder}${basename(file)}`;
  if (bytes !== undefined) await definitions.put(key, bytes);

  const runs: WorkflowSummary[] = [];
  const refresh: RefreshStarter = {
    start: async (input, name) => {
      io.err(`running the refresh state machine for ${input.cohorts?.join(', ') ?? 'every cohort'}...`);
      runs.push((await runRefreshStateMachine(refreshStateMachineAsl, input, { ...local, notifier }, { runId: name })).summary);
      return name;
    },
  };
  // The project config lives beside the definitions in the bucket; locally it is the --config file.
  const config = { store: new FsBlobStore(dirname(folders.config)), key: basename(folders.config) };
  const outcome = await handleDefinitionUpload(
    { key, id: randomUUID(), size },
    { definitions, refresh, notifier, events: local.events, config, decisions: LOCAL_DECISIONS },
  );
  switch (outcome.status) {
    case 'rejected':
      io.err(pc.red(`rejected: the catalog is unchanged (the event is in ${join(folders.state, 'events.jsonl')})`));
      return 1;
    case 'unchanged':
      io.err(`${outcome.path} already holds this definition: nothing to do`);
      return 0;
    case 'pending':
      io.err(
        pc.yellow(
          `waiting for an approval: the config changes ${outcome.sections.join(' and ')}, so ${folders.config} is unchanged and the upload waits in ${outcome.pending}`,
        ),
      );
      io.err(`approve with: ${outcome.approve} (or reject it: cohorts reject)`);
      return 0;
    case 'gone':
      throw new UsageError(`${definitions.locate(key)} disappeared before it could be read`);
    case 'accepted': {
      io.err(pc.green(`accepted: ${outcome.promoted_to}`));
      if (outcome.cohort === null && !isAction && !isList)
        io.err('the project config is replaced: the next refresh uses it (no refresh started)');
      if (isAction && outcome.refresh === null) io.err('no cohort uses this action: no refresh started');
      if (isList && outcome.refresh === null) io.err('no cohort reads this list: no refresh started');
      for (const run of runs) io.out(formatRunSummary(run));
      if (runs.length > 0) {
        const catalog = await loadCatalog(folders.definitions);
        io.err(`report: ${await writeReportFiles(folders, catalog.definitions, local.store)}`);
      }
      return 0;
    }
  }
}
