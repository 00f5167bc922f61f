import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import type { BlobStore, CohortKpiTotals, EvaluationRef, LakeView, QueryEngine } from '../../shared/ports.ts';
import type { MetricColumns } from '../../shared/compiler/compile-refresh.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import type { CohortVersionDetail } from '../../shared/deliver/events.ts';
import type { LocalPorts } from '../../shared/local/local-ports.ts';
import { tempDir } from '../support/cli.ts';
import { localPortsOver } from '../support/local-run.ts';
import { type EventRow, header, login, writeDefinitions, writeLake } from '../support/lake.ts';

/** A tiny lake: logins of three people over three months and one payment. */
export const EVENTS: EventRow[] = [
  login('e1', 'ann', '2024-05-30T10:00:00Z'),
  login('e2', 'bob', '2024-05-31T10:00:00Z'),
  login('e3', 'bob', '2024-04-01T10:00:00Z'),
  login('e4', 'cid', '2024-03-01T10:00:00Z'),
  { event_id: 'p1', source: 'billing', user_id: 'cus_1', event_name: 'invoice_paid', ts: '2024-05-20T00:00:00Z', value: 50 },
];

/** Four cohorts: two leaves, one composed of both, and one held by its min_size. */
export const DEFINITIONS = {
  'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
  'payers.yaml': `${header('payers')}rule:\n  event: invoice_paid\n  within: 30d\n`,
  'active_payers.yaml': `${header('active_payers')}rule:\n  all:\n    - cohort: active_users\n    - cohort: payers\n`,
  'big_cohort.yaml': `${header('big_cohort')}rule:\n  event: login\nquality:\n  min_size: 3\n`,
};

export const COHORTS = ['active_users', 'payers', 'active_payers', 'big_cohort'] as const;

/** Folders of one world: a lake and definitions (shared), and a state folder of its own. */
export interface World {
  readonly lake: string;
  readonly definitions: string;
  readonly state: string;
  readonly engine: DuckDbEngine;
  readonly blobs: BlobStore;
  readonly store: SnapshotStore;
}

/** A lake and definitions folder with the tiny data set. */
export async function givenLake(): Promise<{ lake: string; definitions: string }> {
  const root = await tempDir('cohorts-workflow-');
  const lake = join(root, 'lake');
  const definitions = join(root, 'definitions');
  await writeLake(lake, EVENTS, [{ source: 'billing', user_id: 'cus_1', person_id: 'ann' }]);
  await writeDefinitions(definitions, DEFINITIONS);
  return { lake, definitions };
}

/** A world over a lake, with its own empty state folder and DuckDB. */
export async function givenWorld(
  folders: { lake: string; definitions: string },
  wrapBlobs?: (blobs: BlobStore) => BlobStore,
): Promise<World> {
  const state = await tempDir('cohorts-state-');
  const engine = new DuckDbEngine(await openDuckDb(), folders.lake, 'duckdb test');
  const blobs = wrapBlobs ? wrapBlobs(new FsBlobStore(state)) : new FsBlobStore(state);
  return { ...folders, state, engine, blobs, store: new SnapshotStore(blobs, engine) };
}

/** The local ports of a world, optionally with another engine in front of its DuckDB. */
export function portsOf(world: World, engine: QueryEngine = world.engine): LocalPorts {
  return { ...localPortsOver(world), engine };
}

/** The bytes of every cohort's `current.json` (undefined when there is none). */
export async function currents(world: World): Promise<Record<string, string | undefined>> {
  const entries = await Promise.all(
    COHORTS.map(
      async (id) =>
        [id, await readFile(join(world.state, 'snapshots', `cohort=${id}`, 'current.json'), 'utf8').catch(() => undefined)] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** Every alert a world's notifier wrote. */
export async function alertsOf(world: World): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(world.state, 'alerts.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Where a fault is injected. */
export interface Faults {
  evaluate?: boolean;
  /** Fail reading the members of this result column. */
  membersOf?: string;
  release?: boolean;
}

/** A failure injected into a port. */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

/** A query engine in front of another that fails where told. */
export class FaultyEngine implements QueryEngine {
  constructor(
    private readonly inner: QueryEngine,
    private readonly faults: Faults,
  ) {}

  get name() {
    return this.inner.name;
  }

  get dialect() {
    return this.inner.dialect;
  }

  lake(): Promise<LakeView> {
    return this.inner.lake();
  }

  async evaluate(sql: string, runId: string): Promise<EvaluationRef> {
    if (this.faults.evaluate) throw new InjectedFault('the engine ran out of memory');
    return this.inner.evaluate(sql, runId);
  }

  async members(result: EvaluationRef, column: string): Promise<string[]> {
    if (this.faults.membersOf === column) throw new InjectedFault(`reading ${column} failed`);
    return this.inner.members(result, column);
  }

  kpis(result: EvaluationRef, column: string, metrics: MetricColumns): Promise<CohortKpiTotals> {
    return this.inner.kpis(result, column, metrics);
  }

  async release(result: EvaluationRef): Promise<void> {
    if (this.faults.release) throw new InjectedFault('dropping the result failed');
    return this.inner.release(result);
  }

  rows(sql: string): Promise<Record<string, unknown>[]> {
    return this.inner.rows(sql);
  }
}

/** A blob store that fails to create (or put) keys matching a pattern (e.g. one cohort's manifest). */
export class FaultyBlobs implements BlobStore {
  failCreate: RegExp | undefined;
  failPut: RegExp | undefined;

  constructor(private readonly inner: BlobStore) {}

  get(key: string) {
    return this.inner.get(key);
  }

  async put(key: string, body: Uint8Array | string) {
    if (this.failPut?.test(key)) throw new InjectedFault(`writing ${key} failed`);
    return this.inner.put(key, body);
  }

  async create(key: string, body: Uint8Array | string) {
    if (this.failCreate?.test(key)) throw new InjectedFault(`writing ${key} failed`);
    return this.inner.create(key, body);
  }

  getWithEtag(key: string) {
    return this.inner.getWithEtag(key);
  }

  putIfUnchanged(key: string, body: Uint8Array | string, expectedEtag: string | undefined) {
    return this.inner.putIfUnchanged(key, body, expectedEtag);
  }

  list(prefix: string) {
    return this.inner.list(prefix);
  }

  locate(key: string) {
    return this.inner.locate(key);
  }
}

/** One line of `<state>/events.jsonl`. */
export interface LoggedEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly time: string;
  /** A version's detail; `person_id` on `Cohort Entered` and `Cohort Exited`. */
  readonly detail: CohortVersionDetail & { readonly person_id?: string };
}

/** Every event a world's local event log holds. */
export async function eventsOf(world: World): Promise<LoggedEvent[]> {
  const text = await readFile(join(world.state, 'events.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as LoggedEvent);
}
