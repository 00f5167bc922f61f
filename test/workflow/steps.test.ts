import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventPublishError } from '../../shared/cloud/events-publisher.ts';
import type { CohortOutcome } from '../../shared/engine/snapshot-cohort.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { AthenaQueryRetryableError } from '../../shared/cloud/athena-query.ts';
import { ConcurrentUpdateError, ThrottledError } from '../../shared/cloud/errors.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { athenaStatement, evaluationTableName } from '../../shared/cloud/athena-statement.ts';
import { blobDefinitions } from '../../shared/store/definitions-source.ts';
import { TRANSIENT_ERROR_NAMES, TransientError } from '../../shared/workflow/errors.ts';
import type { AlertFailureEvent } from '../../shared/workflow/events.ts';
import { JsonlNotifier } from '../../shared/local/jsonl-notifier.ts';
import { LocalEvaluations } from '../../shared/local/local-evaluations.ts';
import { causeText, failureAlert, runAlert } from '../../shared/workflow/run-alert.ts';
import { evaluateLocal, planStep, snapshotStep } from '../../shared/workflow/steps.ts';
import { tilesStep } from '../../shared/workflow/tiles-step.ts';
import type { WorkflowSummary } from '../../shared/workflow/types.ts';
import type { TileStore } from '../../shared/tiles/tile-store.ts';
import { splitMembers } from '../../shared/experiments/holdout.ts';
import { tempDir } from '../support/cli.ts';
import { header, writeDefinitions } from '../support/lake.ts';
import { givenLake, givenWorld, portsOf } from './support.ts';
import { localStatement } from '../../shared/local/local-statement.ts';

const outcome = (cohort: string, status: CohortOutcome['status'], checks: CohortOutcome['checks'] = []): CohortOutcome => ({
  cohort,
  status,
  version: 2,
  size: 10,
  previous_version: 1,
  entered: 1,
  exited: 0,
  checks,
});

const summary = (cohorts: CohortOutcome[]): Omit<WorkflowSummary, 'alert'> => ({
  run_id: 'r1',
  as_of: '2024-06-01T00:00:00.000Z',
  trigger: 'schedule:daily',
  tiles: { mode: 'tiles', built_days: 0, rebuilt_days: 0, reused_days: 0, raw_measures: [] },
  population: 100,
  started_at: '2024-06-01T00:00:00.000Z',
  finished_at: '2024-06-01T00:01:00.000Z',
  duration_ms: 60_000,
  cohorts,
  deliveries: [],
});

describe('the transient errors every Lambda task retries', () => {
  it('are the names our error classes really carry', () => {
    const names = [
      new TransientError('x').name,
      new ThrottledError('S3.GetObject', 'x').name,
      new AthenaQueryRetryableError({ queryId: 'q', reason: 'r' }).name,
      new EventPublishError([]).name,
      new ConcurrentUpdateError('x').name,
    ];

    expect([...TRANSIENT_ERROR_NAMES]).toEqual(names);
  });
});

describe('the Evaluate statement', () => {
  it('is a CTAS into the run evaluation table on Athena, without external_location', () => {
    // Prepare
    const build = athenaStatement({ database: 'cohort_refresh' });
    // Act
    const statement = build({ run_id: 'A1b2-C3', query: '-- compiled\nSELECT 1' } as never);
    // Assess
    expect(statement).toBe(`CREATE TABLE "cohort_refresh"."evaluation_a1b2_c3" WITH (format = 'PARQUET') AS\n-- compiled\nSELECT 1`);
    expect(statement).not.toContain('external_location');
    expect(evaluationTableName('2f1c-9A')).toBe('evaluation_2f1c_9a');
  });

  it('is the query itself locally, and refuses a database name that is not an identifier', () => {
    expect(localStatement({ query: 'SELECT 1' } as never)).toBe('SELECT 1');
    expect(() => athenaStatement({ database: 'cohorts"; DROP' })).toThrow('not a safe SQL identifier');
  });
});

describe('the run alert', () => {
  it('is not sent when nothing new was written', () => {
    expect(runAlert(summary([outcome('b', 'unchanged')]))).toBeUndefined();
  });

  it('is a warning when a check only warned, and a failure naming the held cohorts otherwise', () => {
    const warn = { name: 'drift', status: 'warn' as const, observed: 40, threshold: 30, message: 'size moved 40%' };
    const fail = { name: 'min_size', status: 'fail' as const, observed: 2, threshold: 5, message: 'only 2 members' };

    const warned = runAlert(summary([outcome('a', 'published', [warn])]));
    const held = runAlert(summary([outcome('a', 'published', [warn]), outcome('b', 'held', [fail])]));

    expect(warned).toMatchObject({ severity: 'warn', cohorts: ['a'], title: 'cohort refresh 2024-06-01T00:00:00.000Z: 1 with warnings' });
    expect(held).toMatchObject({ severity: 'fail', cohorts: ['b', 'a'], run_id: 'r1' });
    expect(held?.body).toContain(
      'Held (downstream keeps the previous version):\nb v2: current stays at v1\n  fail min_size: only 2 members',
    );
    expect(held?.body).toContain('Warnings (published):\na v2:\n  warn drift: size moved 40%');
  });
});

describe('the failure alert', () => {
  const event = (cause: string | undefined): AlertFailureEvent => ({
    error: { Error: 'States.TaskFailed', Cause: cause },
    failed: { step: 'SnapshotEach', execution: 'arn:exec' },
  });

  it('reads the message out of a Lambda or Athena cause, or takes the cause as it is', () => {
    expect(causeText(JSON.stringify({ errorType: 'InjectedFault', errorMessage: 'disk full', trace: [] }))).toBe('disk full');
    expect(causeText(JSON.stringify({ QueryExecution: { Status: { StateChangeReason: 'SYNTAX_ERROR' } } }))).toBe('SYNTAX_ERROR');
    expect(causeText('plain words')).toBe('plain words');
    expect(causeText(undefined)).toBe('');
  });

  it('names the step, keeps the title to one line of at most 100 characters, and names the requested cohorts', () => {
    const alert = failureAlert({ ...event(`line one\n${'x'.repeat(300)}`), cohorts: ['payers'] });

    expect(alert).toMatchObject({ severity: 'error', step: 'SnapshotEach', cohorts: ['payers'] });
    expect(alert.title.length).toBeLessThanOrEqual(100);
    expect(alert.title).not.toContain('\n');
    expect(alert.body).toContain('Run: (not planned)');
  });
});

describe('the Snapshot step', () => {
  it('returns the outcome of a version this run already wrote instead of failing on its files', async () => {
    // Prepare: plan and evaluate as the state machine would
    const world = await givenWorld(await givenLake());
    const evaluations = new LocalEvaluations();
    const ports = { ...portsOf(world), statement: localStatement, evaluations };
    const { plan } = await planStep({ request: { trigger: 'manual' }, run_id: 'r1', started_at: '2024-06-01T00:00:00Z' }, ports);
    const tiles = await tilesStep({ plan }, ports);
    const evaluation = evaluations.keep('r1', await evaluateLocal(tiles.statement, 'r1', world.engine));
    const first = await snapshotStep({ plan, cohort: 'payers', evaluation, tiles }, ports);
    // Act: a retry after the first attempt wrote everything
    const retried = await snapshotStep({ plan, cohort: 'payers', evaluation, tiles }, ports);
    // Assess
    expect(retried).toEqual(first);
    expect(await world.store.versions('payers')).toEqual([1]);
    expect(await world.store.current('payers')).toBe(1);
  });
});

describe('the Snapshot step of a cohort with a holdout', () => {
  it('returns each arm with its size, entered and exited, and the same arms when retried', async () => {
    // Prepare: every login ever (ann, bob, cid), half held out
    const lake = await givenLake();
    await writeDefinitions(lake.definitions, {
      'logins.yaml': `${header('logins')}rule:\n  event: login\nprogram:\n  experiment: win-back\n  holdout: 50%\n  salt: s1\n`,
    });
    const world = await givenWorld(lake);
    const evaluations = new LocalEvaluations();
    const ports = { ...portsOf(world), statement: localStatement, evaluations };
    const { plan } = await planStep(
      { request: { trigger: 'manual', cohorts: ['logins'] }, run_id: 'r1', started_at: '2024-06-01T00:00:00Z' },
      ports,
    );
    const tiles = await tilesStep({ plan }, ports);
    const evaluation = evaluations.keep('r1', await evaluateLocal(tiles.statement, 'r1', world.engine));
    // Act
    const first = await snapshotStep({ plan, cohort: 'logins', evaluation, tiles }, ports);
    const retried = await snapshotStep({ plan, cohort: 'logins', evaluation, tiles }, ports);
    // Assess: a first version, so everyone in each arm is new
    const { treatment, holdout } = splitMembers({ share: 0.5, salt: 's1' }, ['ann', 'bob', 'cid']);
    expect(first.arms).toEqual({
      treatment: { size: treatment.length, entered: treatment.length, exited: 0 },
      holdout: { size: holdout.length, entered: holdout.length, exited: 0 },
    });
    expect(retried).toEqual(first);
  });
});

describe('the local adapters of the workflow', () => {
  it('read definitions from a blob store as from a folder, with the blob location as path', async () => {
    const { definitions } = await givenLake();

    const catalog = await blobDefinitions(new FsBlobStore(definitions))();

    expect(catalog.problems).toEqual([]);
    expect(catalog.definitions.map((d) => d.id)).toEqual((await loadCatalog(definitions)).definitions.map((d) => d.id));
    expect(catalog.definitions[0]?.path).toBe(join(definitions, 'active_users.yaml'));
  });

  it('append one JSON line per alert to <state>/alerts.jsonl', async () => {
    const state = await tempDir();
    const notifier = JsonlNotifier.inState(state);

    await notifier.notify({ severity: 'warn', title: 'one', body: 'b', cohorts: [] });
    await notifier.notify({ severity: 'error', title: 'two', body: 'b', cohorts: ['x'], step: 'Plan' });

    const lines = (await readFile(join(state, 'alerts.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toMatchObject([{ title: 'one' }, { title: 'two', step: 'Plan', sent_at: expect.any(String) }]);
  });
});

describe('the Tiles step', () => {
  it('counts what bringing the population index up to date scanned in the bytes of the tile builds', async () => {
    // Prepare: a store whose builds scanned 5,000 bytes and whose population index's INSERT 900
    const world = await givenWorld(await givenLake());
    const local = portsOf(world);
    const tiles: TileStore = {
      ...local.tiles,
      refresh: async (request) => ({ ...(await local.tiles.refresh(request)), bytesScanned: 5_000 }),
      relations: (days) => local.tiles.relations(days),
      population: async () => ({ population: 'some_population_index', bytesScanned: 900 }),
    };
    const ports = { ...local, tiles, statement: localStatement };
    const { plan } = await planStep(
      { request: { trigger: 'manual', mode: 'tiles' }, run_id: 'r1', started_at: '2024-06-01T00:00:00Z' },
      ports,
    );
    // Act
    const state = await tilesStep({ plan }, ports);
    // Assess: both counted, and the count is no relation of the tiled query
    expect(state.bytes_scanned?.tiles_build).toBe(5_900);
    expect(state.query).toContain('some_population_index');
    expect(state.query).not.toContain('900');
  });
});
