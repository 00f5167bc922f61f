import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pc from 'picocolors';
import { changes } from '../store/member-changes.ts';
import { TerminalNotifier } from '../local/terminal-notifier.ts';
import { openLocalPorts } from '../local/local-ports.ts';
import { loadConfig } from '../config/config.ts';
import { runRefreshStateMachine } from '../workflow/local-runner.ts';
import { refreshStateMachineAsl } from '../../infra/synthesized-definition.ts';
import type { LocalRun } from '../workflow/local-tasks.ts';
import { LocalOutbox } from '../local/local-outbox.ts';
import { CADENCES } from '../language/ast.ts';
import { loadCatalog, selectForRun, UnknownCohortError } from '../language/catalog.ts';
import { findLakeFiles } from '../local/lake-files.ts';
import { formatProblem, InvalidDefinitionsError, shownValue } from '../language/errors.ts';
import { buildReport } from '../report/build-report.ts';
import { openInBrowser } from '../report/open-in-browser.ts';
import { generateSampleLake } from '../sample/generate-lake.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { MANUAL_TRIGGER, type RefreshMode, scheduleTrigger } from '../refresh-request.ts';
import { UsageError } from './errors.ts';
import { type Folders, type Output, parseAsOf } from './io.ts';
import { existingVersion, noVersionsMessage } from './cohort-versions.ts';
import { shownPath } from './shown-path.ts';
import { type VersionQueryPlace, versionComparisonHint } from './version-comparison.ts';
import { formatRunSummary, table } from './format.ts';
import { learningLines } from './learn-command.ts';
import type { GovernanceWorld } from './governance-world.ts';
import { definitionHistory, definitionLabel, reportGovernance } from './governance-commands.ts';
import { stateCatalog } from '../local/state-catalog.ts';
import { localLearnings, openLocalContext } from '../local/local-context.ts';
import { progressReporter } from './progress.ts';
import { personalPropertyLines } from './privacy-commands.ts';
import { writeReport } from '../local/report-files.ts';

/** `cohorts validate`: exit 0 when every definition is valid, 1 with one line per problem. */
export async function validateCommand(folders: Folders, io: Output): Promise<number> {
  const catalog = await loadCatalog(folders.definitions);
  const problems =
    catalog.problems.length > 0 ? catalog.problems : personalPropertyLines(catalog.definitions, await loadConfig(folders.config));
  if (problems.length > 0) {
    for (const problem of problems) io.out(formatProblem(problem));
    return 1;
  }
  const live = catalog.definitions.filter((d) => !d.deprecated).length;
  const count = catalog.definitions.length;
  // "live": refreshed by runs; deprecated ones are kept for their dependants and history, never refreshed.
  // The verdict is the command's answer, as the problems are: both go to stdout.
  io.out(pc.green(`${count} ${count === 1 ? 'definition' : 'definitions'} valid (${live} live, ${count - live} deprecated)`));
  return 0;
}

/** Options of `cohorts run`. */
export interface RunOptions {
  readonly asOf?: string;
  readonly cohorts: readonly string[];
  readonly cadence?: string;
  readonly force: boolean;
  readonly trigger?: string;
  /** Who wrote the definition changes this run accepts. @default - git, when the definitions are in a repository */
  readonly author?: string;
  /** How the cohorts are computed (`--tiles`, `--full`, `--verify`). @default DEFAULT_REFRESH_MODE */
  readonly mode?: RefreshMode;
  /** Rewrite the HTML report after the run (`cohorts watch` leaves it to `cohorts report`). @default true */
  readonly report?: boolean;
}

/**
 * `cohorts run`: the refresh state machine that CDK synthesizes, executed in-process with local
 * ports (DuckDB for Athena, folders for buckets, alerts.jsonl and the terminal for SNS), so a
 * local run proves the cloud flow. Prints the summary and rewrites the report.
 */
export async function runCommand(folders: Folders, options: RunOptions, io: Output): Promise<LocalRun> {
  if (options.cadence !== undefined && !(CADENCES as readonly string[]).includes(options.cadence)) {
    throw new UsageError(`--cadence must be one of ${CADENCES.join(', ')}, got ${shownValue(options.cadence)}`);
  }
  const asOf = parseAsOf(options.asOf);
  const catalog = await loadCatalog(folders.definitions);
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  // Mistakes on the command line are one error line, not a pipeline alert: check them first.
  try {
    selectForRun(catalog.definitions, { ids: options.cohorts, ...(options.cadence ? { cadence: options.cadence } : {}) });
  } catch (error) {
    throw error instanceof UnknownCohortError ? new UsageError(error.message) : error;
  }
  await findLakeFiles(folders.data);
  const config = await loadConfig(folders.config);
  const personal = personalPropertyLines(catalog.definitions, config);
  if (personal.length > 0) throw new InvalidDefinitionsError(personal);
  // A cold tile build over a large lake takes minutes: its batches are shown as they finish, the
  // bar closed after the last (the run's other lines follow it).
  const progress = progressReporter(io);
  const local = await openLocalPorts(folders, config, (step, done, total) => {
    progress.update(step, done, total);
    if (done === total) progress.stop();
  });
  const notifier = new TerminalNotifier((line) => io.err(line), local.notifier);
  // What a killed run left unsaid goes out first; this run is recorded until it ends.
  const outbox = new LocalOutbox(folders.state);
  await outbox.recover(notifier);
  const runId = randomUUID();
  await outbox.begin({ run_id: runId, as_of: asOf.toISOString(), started_at: new Date().toISOString() });
  io.err('running the refresh state machine...');
  const run = await runRefreshStateMachine(
    refreshStateMachineAsl,
    {
      trigger: options.trigger ?? (options.cadence ? scheduleTrigger(options.cadence as (typeof CADENCES)[number]) : MANUAL_TRIGGER),
      as_of: asOf.toISOString(),
      ...(options.cohorts.length > 0 ? { cohorts: [...options.cohorts] } : {}),
      ...(options.cadence ? { cadence: options.cadence as (typeof CADENCES)[number] } : {}),
      ...(options.force ? { force: true } : {}),
      ...(options.author ? { author: options.author } : {}),
      ...(options.mode ? { mode: options.mode } : {}),
    },
    { ...local, notifier: outbox.notifier(notifier) },
    { runId },
  ).finally(async () => {
    progress.stop();
    if (await outbox.end(runId)) return;
    io.err(`this run's alert could not be written to ${folders.state}: the next \`cohorts run\` alerts that it did not finish`);
  });
  const { summary, plan } = run;
  io.out(formatRunSummary(summary));
  const exported = summary.deliveries.filter((d) => d.exports !== null).length;
  const announced = summary.deliveries.filter((d) => d.event !== null).length;
  const movers = summary.deliveries.reduce((sum, d) => sum + (d.member_events ?? 0), 0);
  io.err(
    `exports: ${shownPath(join(folders.state, 'exports'))} (${exported} new), events: ${shownPath(join(folders.state, 'events.jsonl'))} (${announced} ${announced === 1 ? 'version' : 'versions'} announced, ${movers} member ${movers === 1 ? 'event' : 'events'})`,
  );
  if (options.report !== false) {
    const report = await writeReportFiles(folders, catalog.definitions, local.store).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`refresh ${runId} is done, but the report step failed: ${reason} (\`cohorts report\` rebuilds the report alone)`, {
        cause: error,
      });
    });
    io.err(`report: ${shownPath(report)}`);
  }
  reportGovernance(plan.governance, io);
  return run;
}

/** Writes `<state>/report/index.html` and `catalog.html`; returns the index's path. */
export async function writeReportFiles(folders: Folders, catalog: readonly CohortDefinition[], store: SnapshotStore): Promise<string> {
  const report = await buildReport({
    catalog,
    store,
    generatedAt: new Date(),
    learnings: localLearnings(folders.state),
    governance: stateCatalog(folders.state),
  });
  const written = await writeReport(join(folders.state, 'report'), report.files);
  return written.find((path) => path.endsWith('index.html')) ?? join(folders.state, 'report', 'index.html');
}

/** `cohorts report [--open]`: rebuilds the report from the snapshots and opens it when asked. */
export async function reportCommand(folders: Folders, open: boolean, io: Output): Promise<number> {
  const catalog = await loadCatalog(folders.definitions);
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  const { store } = await openLocalContext(folders);
  const index = await writeReportFiles(folders, catalog.definitions, store);
  io.out(shownPath(index));
  if (open && !openInBrowser(index)) io.err('no display to open a browser on; open the file above yourself');
  return 0;
}

/**
 * `cohorts checks [ID]...`: the check results of the latest version (the last run that wrote it) of
 * each cohort named, or of every live cohort.
 */
export async function checksCommand(folders: Folders, ids: readonly string[], io: Output): Promise<number> {
  const catalog = await loadCatalog(folders.definitions);
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  const { store } = await openLocalContext(folders);
  const colour = { pass: pc.green, warn: pc.yellow, fail: pc.red } as const;
  const rows: string[][] = [];
  const chosen = ids.length > 0 ? [...new Set(ids)] : catalog.definitions.filter((d) => !d.deprecated).map((d) => d.id);
  for (const id of chosen) {
    const { value: latest } = await store.manifestsNewestFirst(id).next();
    if (!latest) {
      if (ids.length > 0) throw new UsageError(noVersionsMessage(id, folders.state));
      continue;
    }
    for (const check of latest.checks) {
      rows.push([
        `${id} v${latest.version}`,
        check.name,
        colour[check.status](check.status),
        String(check.observed ?? ''),
        String(check.threshold ?? ''),
        check.message,
      ]);
    }
  }
  if (rows.length === 0) throw new UsageError(`no versions in ${folders.state} yet (run \`cohorts run\` first)`);
  io.out(table(['cohort', 'check', 'status', 'observed', 'threshold', 'message'], rows, [3, 4]));
  return 0;
}

/** `cohorts members ID [--version N]`. */
export async function membersCommand(folders: Folders, id: string, version: string | undefined, io: Output): Promise<number> {
  const { store } = await openLocalContext(folders);
  const chosen = version === undefined ? await store.current(id) : await existingVersion(store, id, version, folders.state);
  if (chosen === undefined) {
    // A typo'd id has no versions either: "run `cohorts run` first" would send the analyst to refresh for nothing.
    const held = (await store.versions(id)).length;
    throw new UsageError(
      held === 0
        ? noVersionsMessage(id, folders.state)
        : `cohort ${shownValue(id)} has no published version in ${folders.state}: its ${held === 1 ? 'one version is' : `${held} versions are`} held (\`--version N\` lists a held version's members, \`cohorts history\` shows them)`,
    );
  }
  for (const member of await store.members(id, chosen)) io.out(member);
  return 0;
}

/** `cohorts history ID [--cloud]`: membership versions, definition versions and learnings, from the world given. */
export async function historyCommand(id: string, world: GovernanceWorld, io: Output): Promise<number> {
  const { store, learnings } = await world.stores();
  const manifests = await store.manifests(id);
  const definitions = await definitionHistory(world.catalog, id);
  if (manifests.length === 0 && !definitions)
    throw new UsageError(
      `cohort ${shownValue(id)} has no versions and no definition history in ${world.where}: check the id, or refresh it first`,
    );
  const current = await store.current(id);
  const lost = await store.lostPublishes(id);
  const rows = manifests.map((m) => [
    `v${m.version}${m.version === current ? pc.cyan(' (current)') : ''}`,
    m.as_of,
    lost.has(m.version) ? pc.yellow('lost') : m.status === 'held' ? pc.red(m.status) : m.status,
    String(m.size),
    `+${m.entered}`,
    `-${m.exited}`,
    m.previous_version === null ? pc.dim('none') : `v${m.previous_version}`,
    m.kpis?.activation_share == null ? '-' : `${(m.kpis.activation_share * 100).toFixed(1)}%`,
    m.kpis?.value_mean == null ? '-' : String(Math.round(m.kpis.value_mean * 100) / 100),
    m.trigger,
    definitionLabel(m.definition),
    m.rationale ?? '',
  ]);
  if (rows.length > 0)
    io.out(
      table(
        [
          'version',
          'as_of',
          'status',
          'size',
          'entered',
          'exited',
          'against',
          'activation',
          'value/member',
          'trigger',
          'definition',
          'rationale',
        ],
        rows,
        [3, 4, 5, 7, 8],
      ),
    );
  // SPEC 5: entered and exited count against the previous *published* version, so a held version
  // after another held one (or after none) does not count against that one; diff compares any two.
  const held = manifests.filter((m) => m.status === 'held').at(-1);
  if (held) io.out(heldAgainstNote(id, held.version, store, world.athena));
  for (const l of lost.values()) {
    io.out(
      pc.yellow(
        `v${l.version} lost the publish race (run ${l.run_id}, ${l.at}): computed against ${l.computed_against === null ? 'no version' : `v${l.computed_against}`}, ` +
          `but current was ${l.current_version === null ? 'none' : `v${l.current_version}`}; it never became current and was not exported`,
      ),
    );
  }
  if (definitions) io.out(`${rows.length > 0 ? '\n' : ''}definition versions:\n${definitions}`);
  for (const line of learningLines(await learnings.list(id))) io.out(line);
  return 0;
}

/** The line under a history with held versions: what their entered and exited count against. */
function heldAgainstNote(id: string, heldVersion: number, store: SnapshotStore, athena: VersionQueryPlace | undefined): string {
  const diff = heldVersion > 1 ? `; ${versionComparisonHint(id, heldVersion - 1, heldVersion, store, athena)}` : '';
  return (
    `\nentered and exited count against the previous published version (against; none: all entered), ` +
    `as the manifests record them, so held versions are not compared with each other${diff}`
  );
}

/** `cohorts diff ID A B`: who entered and who exited between two versions. */
export async function diffCommand(folders: Folders, id: string, from: string, to: string, io: Output): Promise<number> {
  const { store } = await openLocalContext(folders);
  const a = await store.members(id, await existingVersion(store, id, from, folders.state));
  const b = await store.members(id, await existingVersion(store, id, to, folders.state));
  const { entered, exited } = changes(b, a);
  io.out(`${id} v${from} -> v${to}: ${a.length} -> ${b.length} members, ${entered.length} entered, ${exited.length} exited`);
  for (const m of entered) io.out(`+ ${m}`);
  for (const m of exited) io.out(`- ${m}`);
  return 0;
}

/** Options of `cohorts sample-data`. */
export interface SampleOptions {
  readonly people: number;
  readonly days: number;
  readonly end?: string;
  readonly seed: number;
  readonly force: boolean;
}

/** What `sample-data` records beside the lake, so `npm start` knows the as-of that fits it. */
export interface SampleMarker {
  readonly end: string;
  readonly people: number;
  readonly days: number;
  readonly seed: number;
}

export const SAMPLE_MARKER = 'sample.json';

/** `cohorts sample-data`: a seeded realistic lake in Parquet. */
export async function sampleDataCommand(folders: Folders, options: SampleOptions, io: Output): Promise<SampleMarker> {
  const end = options.end === undefined ? startOfHour(new Date()) : parseAsOf(options.end, '--end');
  if (existsSync(join(folders.data, 'events'))) {
    if (!options.force) throw new UsageError(`${folders.data} already holds an event lake; pass --force to replace it`);
    await rm(join(folders.data, 'events'), { recursive: true, force: true });
    await rm(join(folders.data, 'identities'), { recursive: true, force: true });
  }
  const progress = progressReporter(io);
  const summary = await generateSampleLake({
    dir: folders.data,
    people: options.people,
    days: options.days,
    end,
    seed: options.seed,
    onProgress: (done, total) => progress.update('generating sample events', done, total),
  });
  progress.stop();
  const marker: SampleMarker = { end: end.toISOString(), people: options.people, days: options.days, seed: options.seed };
  await writeFile(join(folders.data, SAMPLE_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  io.err(
    `wrote ${summary.events} events of ${summary.people} people (${summary.identities} identity rows) in ${summary.files} files to ${folders.data}, ending ${marker.end}`,
  );
  return marker;
}

/** Reads the marker `sample-data` left, if the lake was generated. */
export async function readSampleMarker(data: string): Promise<SampleMarker | undefined> {
  try {
    return JSON.parse(await readFile(join(data, SAMPLE_MARKER), 'utf8')) as SampleMarker;
  } catch {
    return undefined;
  }
}

function startOfHour(date: Date): Date {
  const copy = new Date(date);
  copy.setUTCMinutes(0, 0, 0);
  return copy;
}
