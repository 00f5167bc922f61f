import { UsageError } from './errors.ts';

/** Options every command takes: the folders, the privacy key, and --help. */
const EVERY_COMMAND = new Set(['data', 'definitions', 'state', 'config', 'privacy-key', 'help']);

const RUN = ['as-of', 'cohort', 'cadence', 'force', 'author', 'tiles', 'full', 'verify', 'trigger'];
const DECIDE = ['by', 'note', 'hash', 'cloud', 'stack-outputs'];

/**
 * The options each command takes besides those of every command. `sample-data --stream` is its own
 * entry: the stream takes no lake shape (--days, --end, --seed, --force).
 */
export const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  run: RUN,
  demo: RUN,
  validate: [],
  upload: [],
  test: [],
  members: ['version'],
  history: ['cloud', 'stack-outputs'],
  learn: ['version', 'by'],
  experiment: ['metric', 'within', 'version'],
  diff: [],
  checks: [],
  report: ['open'],
  forget: [],
  'privacy-check': [],
  'sample-data': ['people', 'days', 'end', 'seed', 'force', 'stream'],
  'sample-data --stream': ['people', 'stream', 'interval'],
  watch: ['debounce'],
  ingest: [],
  plan: ['as-of', 'cloud', 'stack-outputs'],
  approve: DECIDE,
  reject: DECIDE,
  doctor: ['cloud', 'stack-outputs', 'keep'],
};

/**
 * A usage error for the first option given that `command` does not take (`--as-of does not apply to
 * members (run, demo, plan take it)`): an option a command ignored silently would let a user believe
 * it was applied. Unknown commands are left to the command switch.
 */
export function refuseUnusedOptions(command: string, given: readonly string[]): void {
  const takes = COMMAND_OPTIONS[command];
  if (takes === undefined) return;
  const unused = given.find((name) => !EVERY_COMMAND.has(name) && !takes.includes(name));
  if (unused === undefined) return;
  const takers = Object.entries(COMMAND_OPTIONS)
    .filter(([, options]) => options.includes(unused))
    // Beside `sample-data --stream`, plain `sample-data` needs saying so.
    .map(([name]) => (name === 'sample-data' && command === 'sample-data --stream' ? 'sample-data without --stream' : name));
  throw new UsageError(`--${unused} does not apply to ${command} (${takers.join(', ')} ${takers.length === 1 ? 'takes' : 'take'} it)`);
}
