import { parseArgs } from 'node:util';
import pc from 'picocolors';
import { InvalidDefinitionsError, shownValue } from '../language/errors.ts';
import {
  checksCommand,
  diffCommand,
  historyCommand,
  membersCommand,
  readSampleMarker,
  reportCommand,
  runCommand,
  sampleDataCommand,
  validateCommand,
} from './commands.ts';
import { decideCommand, planCommand } from './governance-commands.ts';
import { cloudGovernance, localGovernance } from './governance-world.ts';
import { forgetCommand, privacyCheckCommand } from './privacy-commands.ts';
import { idForms } from '../privacy/person-hash.ts';
import { exitCodeOf, UsageError } from './errors.ts';
import { experimentCommand } from './experiment-command.ts';
import { uploadCommand } from './upload-command.ts';
import { learnCommand } from './learn-command.ts';
import { testCommand } from './test-command.ts';
import { doctorCommand } from './doctor-command.ts';
import { ingestCommand, ingestInput } from './ingest-command.ts';
import { withRunLock } from '../local/run-lock.ts';
import { unknownOptionError } from './unknown-option.ts';
import { refuseUnusedOptions } from './command-options.ts';
import { streamSampleEvents } from '../sample/event-stream.ts';
import { SAMPLE_LIMITS } from '../sample/params.ts';
import { untilInterrupted } from './interrupt.ts';
import { watchCommand } from './watch-command.ts';
import { forgetStateFolder, requireStateFolder } from './state-folder.ts';
import { requireGivenConfig } from './config-option.ts';
import { type Leftover, removeLeftovers } from '../local/leftovers.ts';
import { cohortIdArgument, type Folders, type Output } from './io.ts';
import { counted } from './format.ts';

const RUN_USAGE =
  'run [--as-of ISO] [--cohort ID]... [--cadence C] [--force] [--author NAME] [--trigger TEXT] [--tiles | --full | --verify]';

const USAGE = `Usage: cohorts <command> [options]

Commands:
  ${RUN_USAGE}
                                                                refresh cohorts (default: all) and print a summary; --tiles: from daily
                                                                tiles; --full: from raw events (the default for now); --verify: both,
                                                                exit 1 on any difference
  validate                                                      check every definition (exit 1 with path:line:col lines)
  upload FILE                                                   what uploading FILE to the definitions bucket does: validate, then accept and refresh, or reject
  test [FILE]...                                                run the fixture tests in <definitions>/tests/ (exit 1 on a failure)
  members ID [--version N]                                      members of the current (or given) version
  history ID [--cloud]                                          every version with as_of, status, size, entered, exited (against the previous published one)
  learn ID "note" [--version N] [--by NAME]                     record what was learned in the learnings library
  experiment ID... --metric EVENT... --within 14d [--version N] treatment against holdout: lift, 95% CI, p, sample size
  diff ID A B                                                   members who entered and exited between versions A and B
  checks [ID]...                                                check results of the latest version of each cohort (or of those named)
  report [--open]                                               rebuild the HTML report (<state>/report/index.html)
  forget PERSON...                                              erase people from every file of the state folder (keyed-hash audit record)
  privacy-check                                                 no forgotten or suppressed id, no personal property, no unreadable file in the state folder
  sample-data [--people N] [--days N] [--end ISO] [--seed N] [--force]
                                                                write a realistic sample lake (Parquet) to --data
  sample-data --stream [--people N] [--interval MS]             keep appending small files of events to today's partition (Ctrl-C stops)
  watch [--debounce MS]                                         refresh the realtime cohorts whenever files land in --data, printing
                                                                who entered and exited (Ctrl-C stops after the refresh in progress)
  ingest FILE|-                                                 append JSON Lines events to --data's events/dt=YYYY-MM-DD/ (exit 1 if a line is refused)
  demo                                                          sample data if missing, then a full refresh (npm start)
  plan [--as-of ISO] [--cloud]                                  working definitions against the published ones: diffs, impact, guardrails
  approve ID --by NAME --note WHY [--hash H] [--cloud]          approve the waiting change of a core cohort, or (ID cohorts.config.yaml) the waiting config upload
  reject ID --by NAME --note WHY [--hash H] [--cloud]           refuse the waiting change of a core cohort, or (ID cohorts.config.yaml) the waiting config upload
  doctor --cloud [--keep]                                       check a deployment: tiny probe queries through its workgroup (exit 1 if anything would break)

Folders: --data ./data  --definitions ./definitions  --state ./.cohorts  --config ./cohorts.config.yaml (optional)
  --privacy-key FILE (default ~/.config/cohort-refresh/privacy-key): the erasure records' key, never inside --state
Cloud (plan, approve, reject, history, doctor): --cloud reads the deployment's names from DEFINITIONS_BUCKET, SNAPSHOTS_BUCKET, ...
  (the Lambdas' environment variables) or from --stack-outputs FILE (aws cloudformation describe-stacks ... --query "Stacks[0].Outputs")`;

const options = {
  data: { type: 'string', default: './data' },
  definitions: { type: 'string', default: './definitions' },
  state: { type: 'string', default: './.cohorts' },
  config: { type: 'string', default: './cohorts.config.yaml' },
  'as-of': { type: 'string' },
  cohort: { type: 'string', multiple: true, default: [] as string[] },
  cadence: { type: 'string' },
  force: { type: 'boolean', default: false },
  tiles: { type: 'boolean', default: false },
  full: { type: 'boolean', default: false },
  verify: { type: 'boolean', default: false },
  trigger: { type: 'string' },
  version: { type: 'string' },
  people: { type: 'string' },
  days: { type: 'string' },
  end: { type: 'string' },
  seed: { type: 'string' },
  by: { type: 'string' },
  metric: { type: 'string', multiple: true, default: [] as string[] },
  within: { type: 'string' },
  open: { type: 'boolean', default: false },
  author: { type: 'string' },
  note: { type: 'string' },
  hash: { type: 'string' },
  cloud: { type: 'boolean', default: false },
  'stack-outputs': { type: 'string' },
  'privacy-key': { type: 'string' },
  keep: { type: 'boolean', default: false },
  stream: { type: 'boolean', default: false },
  interval: { type: 'string' },
  debounce: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function wholeNumber(name: string, text: string | undefined, fallback: number, max?: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || (max !== undefined && value > max))
    throw new UsageError(`--${name} must be a whole number from 1${max === undefined ? '' : ` to ${max}`}, got ${shownValue(text)}`);
  return value;
}

function positionals(args: readonly string[], count: number, usage: string): string[] {
  if (args.length !== count) throw new UsageError(`usage: cohorts ${usage}`);
  return [...args];
}

function parseCommandLine(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw unknownOptionError(error, Object.keys(options));
  }
}

/** Runs one command line; returns the exit code. */
export async function main(argv: readonly string[], io: Output): Promise<number> {
  const { values, positionals: args, tokens } = parseCommandLine(argv);
  const [command, ...rest] = args;
  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const folders: Folders = {
    data: values.data,
    definitions: values.definitions,
    state: values.state,
    config: values.config,
    ...(values['privacy-key'] === undefined ? {} : { privacyKey: values['privacy-key'] }),
  };
  const given = tokens.flatMap((token) => (token.kind === 'option' ? [token.name] : []));
  refuseUnusedOptions(command === 'sample-data' && values.stream ? 'sample-data --stream' : command, given);
  if (values['stack-outputs'] !== undefined && !values.cloud) throw new UsageError('--stack-outputs FILE goes with --cloud');
  await requireGivenConfig(folders.config, given.includes('config'));
  const modes = (['tiles', 'full', 'verify'] as const).filter((mode) => values[mode]);
  if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} exclude each other: give one (--verify computes both ways)`);
  // Where plan, approve, reject and history read and write: the local folders, or the deployment.
  const world = (startsRefreshes = false) =>
    values.cloud
      ? cloudGovernance({ startsRefreshes, ...(values['stack-outputs'] === undefined ? {} : { stackOutputs: values['stack-outputs'] }) })
      : Promise.resolve(localGovernance(folders));
  const runOptions = {
    cohorts: values.cohort,
    force: values.force,
    ...(values['as-of'] ? { asOf: values['as-of'] } : {}),
    ...(values.cadence ? { cadence: values.cadence } : {}),
    ...(values.trigger ? { trigger: values.trigger } : {}),
    ...(values.author ? { author: values.author } : {}),
    ...(modes[0] ? { mode: modes[0] } : {}),
  };
  // Commands that write the state folder hold its run lock: a second one says it is busy.
  // Run, demo, upload and forget first remove what crashed commands left (safe: no other writer runs).
  const locked = <T>(work: () => Promise<T>, clean = false): Promise<T> =>
    withRunLock(folders.state, command, async () => {
      if (clean) reportLeftovers(folders.state, await removeLeftovers(folders.state), io);
      return work();
    });
  // Commands that read versions refuse a missing state folder: reading would write version indexes
  // into it (creating a typo'd --state), and "no versions" would send the user to refresh for nothing.
  const readsState = () => requireStateFolder(folders.state, command);
  switch (command) {
    case 'validate':
      positionals(rest, 0, 'validate');
      return validateCommand(folders, io);
    case 'test':
      return testCommand(folders, rest, io);
    case 'upload': {
      const [file] = positionals(rest, 1, 'upload FILE');
      return locked(() => uploadCommand(folders, file as string, io), true);
    }
    case 'run':
      positionals(rest, 0, RUN_USAGE);
      await locked(() => runCommand(folders, runOptions, io), true);
      return 0;
    case 'members': {
      const id = cohortIdArgument(positionals(rest, 1, 'members ID [--version N]')[0] as string);
      await readsState();
      return membersCommand(folders, id, values.version, io);
    }
    case 'history': {
      const id = cohortIdArgument(positionals(rest, 1, 'history ID [--cloud]')[0] as string);
      if (!values.cloud) await readsState();
      return historyCommand(id, await world(), io);
    }
    case 'learn': {
      const [text, note] = positionals(rest, 2, 'learn ID "note" [--version N] [--by NAME]');
      const id = cohortIdArgument(text as string);
      await readsState();
      return locked(() =>
        learnCommand(
          folders,
          id,
          note as string,
          { ...(values.version ? { version: values.version } : {}), ...(values.by ? { by: values.by } : {}) },
          io,
        ),
      );
    }
    case 'experiment': {
      const ids = rest.map(cohortIdArgument);
      await readsState();
      return experimentCommand(
        folders,
        ids,
        {
          metrics: values.metric,
          ...(values.within ? { within: values.within } : {}),
          ...(values.version ? { version: values.version } : {}),
        },
        io,
      );
    }
    case 'diff': {
      const [text, a, b] = positionals(rest, 3, 'diff ID A B');
      const id = cohortIdArgument(text as string);
      await readsState();
      return diffCommand(folders, id, a as string, b as string, io);
    }
    case 'checks': {
      const ids = rest.map(cohortIdArgument);
      await readsState();
      return checksCommand(folders, ids, io);
    }
    case 'report':
      positionals(rest, 0, 'report [--open]');
      // Before the run lock, which would create the folder.
      await readsState();
      return locked(() => reportCommand(folders, values.open, io));
    case 'forget':
      if (rest.length === 0) throw new UsageError('usage: cohorts forget PERSON...');
      // Every id before any erasure: an empty one after a good one used to stop half way (exit 1).
      for (const id of rest)
        if (idForms(id).length === 0)
          throw new UsageError(
            `a person id to forget must not be empty, got ${shownValue(id)}: nothing was forgotten (give each id, quoted)`,
          );
      // Before the run lock, which would create the folder.
      await forgetStateFolder(folders.state, given.includes('state'), io.err);
      return locked(() => forgetCommand(folders, rest, io), true);
    case 'privacy-check':
      positionals(rest, 0, 'privacy-check');
      return privacyCheckCommand(folders, io);
    case 'sample-data':
      if (values.stream) {
        positionals(rest, 0, 'sample-data --stream [--people N] [--interval MS]');
        const people = wholeNumber('people', values.people, 3000, SAMPLE_LIMITS.people);
        return streamCommand(folders.data, people, wholeNumber('interval', values.interval, 1000), io);
      }
      positionals(rest, 0, 'sample-data [--people N] [--days N] [--end ISO] [--seed N] [--force]');
      await sampleDataCommand(
        folders,
        {
          people: wholeNumber('people', values.people, 3000, SAMPLE_LIMITS.people),
          days: wholeNumber('days', values.days, 120, SAMPLE_LIMITS.days),
          seed: wholeNumber('seed', values.seed, 42, SAMPLE_LIMITS.seed),
          force: values.force,
          ...(values.end ? { end: values.end } : {}),
        },
        io,
      );
      return 0;
    case 'watch': {
      positionals(rest, 0, 'watch [--debounce MS]');
      const stop = untilInterrupted();
      try {
        const quietMs = wholeNumber('debounce', values.debounce, 1000);
        return await watchCommand(folders, { pollMs: Math.min(250, quietMs), quietMs, listed: 10, signal: stop.signal }, io);
      } finally {
        stop.dispose();
      }
    }
    case 'ingest': {
      const [file] = positionals(rest, 1, 'ingest FILE|-');
      return ingestCommand(folders, ingestInput(file as string), io);
    }
    case 'demo': {
      positionals(rest, 0, 'demo');
      let marker = await readSampleMarker(folders.data);
      if (!marker) {
        io.err(pc.bold(`No lake in ${folders.data} yet: generating sample data first.`));
        marker = await sampleDataCommand(folders, { people: 3000, days: 120, seed: 42, force: false }, io);
      }
      io.err(pc.bold(`Refreshing every cohort in ${folders.definitions} as of ${marker.end} (the end of the sample data).`));
      await locked(() => runCommand(folders, { ...runOptions, asOf: runOptions.asOf ?? marker.end }, io), true);
      io.err(
        `Snapshots are in ${folders.state}/snapshots; open the report above in a browser, or try: npx cohorts history weekly_active_users`,
      );
      return 0;
    }
    case 'plan':
      positionals(rest, 0, 'plan [--as-of ISO] [--cloud]');
      return planCommand(folders, runOptions, await world(), io);
    case 'approve':
    case 'reject': {
      const [id] = positionals(rest, 1, `${command} ID --by NAME --note WHY [--hash H] [--cloud]`);
      const decision = command === 'approve' ? 'approved' : 'rejected';
      const options = {
        ...(values.by === undefined ? {} : { by: values.by }),
        ...(values.note === undefined ? {} : { note: values.note }),
        ...(values.hash === undefined ? {} : { hash: values.hash }),
      };
      const decide = async () => decideCommand(id as string, decision, options, await world(decision === 'approved'), io);
      return values.cloud ? decide() : locked(decide);
    }
    case 'doctor':
      positionals(rest, 0, 'doctor --cloud [--stack-outputs FILE] [--keep]');
      if (!values.cloud) throw new UsageError('doctor checks a deployment: cohorts doctor --cloud [--stack-outputs FILE] [--keep]');
      return doctorCommand(
        { keep: values.keep, ...(values['stack-outputs'] === undefined ? {} : { stackOutputs: values['stack-outputs'] }) },
        io,
      );
    default:
      throw new UsageError(`unknown command ${shownValue(command)}\n${USAGE}`);
  }
}

/** `cohorts sample-data --stream`: appends a small file of events every `intervalMs` until Ctrl-C. */
async function streamCommand(data: string, people: number, intervalMs: number, io: Output): Promise<number> {
  const stop = untilInterrupted();
  io.err(`appending sample events to ${data}/events/ every ${intervalMs} ms (Ctrl-C stops)`);
  try {
    const { files, events } = await streamSampleEvents({
      dir: data,
      people,
      intervalMs,
      eventsPerFile: 20,
      signal: stop.signal,
      onFile: (path, count) => io.err(`appended ${count} events: ${path}`),
    });
    io.err(`stopped: ${counted(events, 'event')} in ${counted(files, 'file')}`);
    return 0;
  } finally {
    stop.dispose();
  }
}

/** The longest error line printed: a message quoting unbounded input (a path, a key) is cut here. */
export const MAX_ERROR_LINE_CHARS = 500;

/** One line saying what a crashed command left and this one removed, if anything. */
function reportLeftovers(state: string, removed: readonly Leftover[], io: Output): void {
  if (removed.length === 0) return;
  const count = (kind: Leftover['kind']) => removed.filter((l) => l.kind === kind).length;
  const parts = [
    count('temporary') > 0 ? `${count('temporary')} temporary` : '',
    count('partial-version') > 0 ? `${count('partial-version')} of unfinished versions` : '',
    count('partial-export') > 0 ? `${count('partial-export')} of unfinished exports` : '',
  ].filter(Boolean);
  io.err(`removed ${removed.length} file${removed.length === 1 ? '' : 's'} an interrupted command left in ${state} (${parts.join(', ')})`);
}

/** One clear line per error, never a stack trace (set COHORTS_DEBUG=1 for one). */
export function describeError(error: unknown): string {
  const text =
    error instanceof InvalidDefinitionsError
      ? `invalid definitions:\n${error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  return text
    .split('\n')
    .map((line) => (line.length > MAX_ERROR_LINE_CHARS ? `${line.slice(0, MAX_ERROR_LINE_CHARS - 1)}…` : line))
    .join('\n');
}

const isEntryPoint = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntryPoint) {
  // `cohorts members x | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const io: Output = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    interactive: Boolean(process.stderr.isTTY),
  };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (process.env.COHORTS_DEBUG) console.error(error);
      process.stderr.write(`${pc.red('cohorts:')} ${describeError(error)}\n`);
      process.exitCode = exitCodeOf(error);
    },
  );
}
