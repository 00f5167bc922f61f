import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'vitest';
import { compileSourceChecks } from '../../shared/checks/source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from '../../shared/checks/source-rows.ts';
import { type SourceCheckReport, sourceChecks } from '../../shared/checks/source-checks.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { DEFAULT_CONFIG, type ProjectConfig } from '../../shared/config/config.ts';
import { duckdbLakeRelations } from '../../shared/local/duckdb-lake.ts';
import { findLakeFiles } from '../../shared/local/lake-files.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { LocalSourceChecks } from '../../shared/local/local-source-checks.ts';
import { keptChecksOver } from './kept-support.ts';
import type { CheckResult } from '../../shared/store/manifest.ts';

/** The as-of instant of the source-check tests: mid-day, so T's own day is partial. */
export const AS_OF = new Date('2024-06-15T12:00:00.000Z');

/** The last full UTC day before AS_OF, whose volume is judged. */
export const LAST_DAY = '2024-06-14';

/**
 * One raw JSONL event: any field may be missing (undefined leaves the key out) or null, and `dt`
 * may disagree with ts (default: the UTC date of ts).
 */
export interface RawEvent {
  readonly event_id?: string | null;
  readonly source?: string | null;
  readonly user_id?: string | null;
  readonly event_name?: string | null;
  readonly ts?: string | null;
  readonly dt?: string;
  readonly properties?: Record<string, unknown>;
}

/** One identity-map row. */
export interface IdentityRow {
  readonly source: string;
  readonly user_id: string;
  readonly person_id: string;
}

/** Writes events as JSONL into their `dt=` partitions, and the identity map if any. */
export async function writeRawLake(dir: string, events: readonly RawEvent[], identities: readonly IdentityRow[] = []): Promise<void> {
  const byDay = new Map<string, string[]>();
  for (const { dt, ...event } of events) {
    const day = dt ?? new Date(event.ts as string).toISOString().slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), JSON.stringify(event)]);
  }
  await mkdir(join(dir, 'events'), { recursive: true });
  for (const [day, lines] of byDay) {
    await mkdir(join(dir, 'events', `dt=${day}`), { recursive: true });
    await writeFile(join(dir, 'events', `dt=${day}`, 'events.jsonl'), `${lines.join('\n')}\n`);
  }
  if (identities.length > 0) {
    await mkdir(join(dir, 'identities'), { recursive: true });
    await writeFile(join(dir, 'identities', 'identities.jsonl'), `${identities.map((row) => JSON.stringify(row)).join('\n')}\n`);
  }
}

/** The day `offset` days from LAST_DAY (negative: earlier), as YYYY-MM-DD. */
export function dayFromLast(offset: number): string {
  return new Date(Date.parse(`${LAST_DAY}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);
}

/** `count` events of one source on one day, at distinct minutes from 01:00, ids `<prefix>-<day>-<n>`. */
export function eventsOn(source: string, day: string, count: number, prefix = source): RawEvent[] {
  return Array.from({ length: count }, (_, n) => ({
    event_id: `${prefix}-${day}-${n}`,
    source,
    user_id: `${source}_user_${n % 7}`,
    event_name: 'did_something',
    ts: new Date(Date.parse(`${day}T01:00:00Z`) + n * 60_000).toISOString(),
  }));
}

/** Events of a source on each of the 28 history days before LAST_DAY (count per day from `perDay`), and `last` on LAST_DAY. */
export function history(source: string, perDay: (daysBefore: number) => number, last: number): RawEvent[] {
  const events: RawEvent[] = [];
  for (let before = 28; before >= 1; before--) events.push(...eventsOn(source, dayFromLast(-before), perDay(before)));
  events.push(...eventsOn(source, LAST_DAY, last));
  return events;
}

/** A scratch folder per test, removed afterwards. */
export async function withLake<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'source-checks-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What one run of the source checks gave. */
export interface SourceCheckRun {
  readonly sql: string;
  readonly rows: readonly SourceCheckRow[];
  readonly report: SourceCheckReport;
  /** The check `name` of `source` (NO_SOURCE for rows without one); throws when absent. */
  check(source: string, name: string): CheckResult;
}

/** Runs the source-check query on DuckDB over a lake folder and evaluates it. */
export async function runSourceChecks(
  connection: DuckDBConnection,
  lakeDir: string,
  config: ProjectConfig = DEFAULT_CONFIG,
  asOf: Date = AS_OF,
): Promise<SourceCheckRun> {
  const lake = duckdbLakeRelations(await findLakeFiles(lakeDir));
  const { sql } = compileSourceChecks({ asOf, lake, dialect: duckdbDialect });
  const reader = await connection.runAndReadAll(sql);
  const rows = readSourceCheckRows(reader.getRowObjectsJS());
  await expectKeptRowsSame(connection, lakeDir, asOf, rows);
  const report = sourceChecks(rows, config, asOf);
  return {
    sql,
    rows,
    report,
    check(source, name) {
      const found = report.sources.find((group) => group.source === source)?.checks.find((c) => c.name === name);
      if (!found) throw new Error(`no check ${name} for ${source}; sources: ${report.sources.map((s) => s.source).join(', ')}`);
      return found;
    },
  };
}

/** Rows in a stable order, to compare two runs. */
export const sortedRows = (rows: readonly SourceCheckRow[]) => rows.map((row) => JSON.stringify(row)).sort();

/**
 * Every source-check test also runs the local checks that keep the identity map's keys
 * (local-source-checks.ts) twice, building and then reading the kept keys, and the cloud's kept
 * parts (kept-source-checks.ts, over DuckDB and a folder) twice: each must return exactly the
 * rows of the query.
 */
async function expectKeptRowsSame(connection: DuckDBConnection, lakeDir: string, asOf: Date, rows: readonly SourceCheckRow[]) {
  const state = await mkdtemp(join(tmpdir(), 'source-checks-state-'));
  try {
    const engine = new DuckDbEngine(connection, lakeDir);
    const checks = new LocalSourceChecks(connection, engine, lakeDir, state);
    for (const _ of ['build', 'read']) expect(sortedRows(await checks.rows(asOf, await engine.lake()))).toEqual(sortedRows(rows));
    const kept = keptChecksOver(engine, lakeDir, state);
    for (const _ of ['build', 'read']) expect(sortedRows(await kept.rows(asOf))).toEqual(sortedRows(rows));
  } finally {
    await rm(state, { recursive: true, force: true });
  }
}

/** A config with some settings replaced (the rest at their defaults). */
export function configWith(overrides: {
  readonly sources?: ProjectConfig['sources'];
  readonly checks?: Partial<ProjectConfig['checks']>;
  readonly defaults?: ProjectConfig['defaults'];
}): ProjectConfig {
  return {
    ...DEFAULT_CONFIG,
    defaults: overrides.defaults ?? DEFAULT_CONFIG.defaults,
    sources: overrides.sources ?? {},
    checks: { ...DEFAULT_CONFIG.checks, ...overrides.checks },
    metrics: DEFAULT_CONFIG.metrics,
    privacy: DEFAULT_CONFIG.privacy,
  };
}
