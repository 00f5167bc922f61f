import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import { UnsafeSqlValueError } from '../../shared/compiler/sql-text.ts';
import type { ListedLake } from '../../shared/cloud/athena-engine.ts';
import { AthenaQueryRunner } from '../../shared/cloud/athena-query.ts';
import { ROLLUP_SLOTS, ROLLUP_STATE_KEY } from '../../shared/cloud/athena-tile-rollup.ts';
import { AthenaTileStore, fingerprintKey, MAX_DAYS_PER_INSERT } from '../../shared/cloud/athena-tile-store.ts';
import type { LakeObject } from '../../shared/cloud/lake-objects.ts';
import { ROLLUP_DAY, type TileExpiry } from '../../shared/tiles/expiry.ts';
import { rollupSql } from '../../shared/tiles/expiry-sql.ts';
import type { TileFingerprint } from '../../shared/tiles/fingerprint.ts';
import { tileMeasure } from '../../shared/tiles/measures.ts';
import { dayTilesSql } from '../../shared/tiles/day-tiles-sql.ts';
import { contestedCopiesSql, noTilesSql } from '../../shared/tiles/tile-sql.ts';
import { contestedFromIndexSql, dayIdsSql } from '../../shared/tiles/id-index-sql.ts';
import { eventRowsKeptSql, tilePersonsSql, tileRowsHeldSql, tileRowsKeptSql } from '../../shared/tiles/forget-sql.ts';
import { compileTiledRefresh } from '../../shared/tiles/tiled-refresh.ts';
import { validDaysSql } from '../../shared/tiles/valid-days-sql.ts';
import { populationAddedSql, populationIndexSql } from '../../shared/tiles/population-sql.ts';
import { calledFunctions, catalog, LAKE, parseTrino, TRINO_FUNCTIONS } from '../compiler/support.ts';
import { bucketOfMap } from './support.ts';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const runner = new AthenaQueryRunner(new AthenaClient({ region: 'eu-central-1' }), {
  workGroup: 'cohort-refresh',
  database: 'cohort_refresh',
  sleep: async () => {},
});

const EVENTS = '(SELECT * FROM "cohort_refresh"."lake_events_of_listing")';
/** The events relation over only the files added since a day's tile was built (ListedLake.eventsOf). */
const ADDED_EVENTS = '(SELECT * FROM "cohort_refresh"."lake_events_of_added_files")';
const LOGIN = tileMeasure({ events: ['login'], where: [] }, { kind: 'count' });
const PURCHASE = tileMeasure({ events: ['purchase'], where: [] }, { kind: 'sum' });
const DAY = 86_400_000;

/** Consecutive UTC days from `first`. */
const daysFrom = (first: string, n: number) =>
  Array.from({ length: n }, (_, i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * DAY).toISOString().slice(0, 10));

/** One events file per `dt`, with an ETag that says which version of it the lake holds. */
const eventFile = (dt: string, etag = '"v1"'): LakeObject => ({
  table: 'events',
  format: 'parquet',
  key: `lake/events/dt=${dt}/part-0.parquet`,
  dt,
  etag,
  size: 1_000,
  tsUnit: 'micros',
});

/**
 * A world of fakes: the snapshots bucket as a map (fingerprints and tile files), Athena recording
 * each statement with the bytes it scanned, and a log of what happened in which order.
 */
function world(options: { foldBatchDays?: number; eventsOf?: boolean; digestIndex?: boolean; manyRows?: string[] } = {}) {
  const objects = new Map<string, string>();
  const log: string[] = [];
  const statements: string[] = [];
  let contestedRows: [string, string][] = [];
  /** Rows of a SELECT by its text (the contested ids per day when it gives none). */
  let answer: (sql: string) => string[][] | undefined = () => undefined;
  /** A statement Athena fails (a crash midway). */
  let failing: (sql: string) => boolean = () => false;
  /** The ids on each index day, as the SELECT of index days' ids answers (athena-tile-ids.ts digests). */
  let idsOn = new Map<string, string[]>();
  const scanned = { insertTiles: 5_000, insertIds: 400, selectIds: 20, insertPopulation: 900, insertContested: 700, selectContested: 30 };

  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    statements.push(input.QueryString);
    log.push(`query ${input.QueryString.split('\n')[0]}`);
    if (failing(input.QueryString)) return { QueryExecutionId: `q-${statements.length}` };
    // An INSERT writes its days' files, as Athena would (an erasure's INSERT its one day, or the contested copies).
    const inserts = input.QueryString.startsWith('INSERT INTO "cohort_refresh"."tiles" ');
    const days: string[] = !inserts
      ? []
      : [...(/WHERE day IN \(([^)]*)\)/.exec(input.QueryString)?.[1]?.match(/\d{4}-\d{2}-\d{2}/g) ?? [])];
    if (input.QueryString.startsWith('INSERT INTO "cohort_refresh"."tiles" '))
      days.push(...(/WHERE day = '(\d{4}-\d{2}-\d{2})'/.exec(input.QueryString)?.slice(1) ?? []));
    for (const day of days) objects.set(`tiles/days/day=${day}/20260101_q_${statements.length}`, 'parquet');
    if (input.QueryString.startsWith('INSERT INTO "cohort_refresh"."tiles_ids" '))
      for (const day of /WHERE day IN \(([^)]*)\)$/.exec(input.QueryString)?.[1]?.match(/\d{4}-\d{2}-\d{2}/g) ?? [])
        objects.set(`tiles/ids/day=${day}/20260101_q_${statements.length}`, 'parquet');
    if (input.QueryString.startsWith('INSERT INTO "cohort_refresh"."tiles_contested" '))
      objects.set(`tiles/contested/20260101_q_${statements.length}`, 'parquet');
    if (input.QueryString.startsWith('INSERT INTO "cohort_refresh"."tiles_population" '))
      objects.set(`tiles/population/20260101_q_${statements.length}`, 'parquet');
    return { QueryExecutionId: `q-${statements.length}` };
  });
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
    const sql = statements[Number(input.QueryExecutionId.slice(2)) - 1] ?? '';
    const select = !sql.startsWith('INSERT');
    const bytes = sql.startsWith('INSERT INTO "cohort_refresh"."tiles" ')
      ? scanned.insertTiles
      : sql.startsWith('INSERT INTO "cohort_refresh"."tiles_ids" ')
        ? scanned.insertIds
        : sql.startsWith('INSERT INTO "cohort_refresh"."tiles_population" ')
          ? scanned.insertPopulation
          : sql.startsWith('INSERT')
            ? scanned.insertContested
            : sql.startsWith(IDS_SELECT)
              ? scanned.selectIds
              : scanned.selectContested;
    return {
      QueryExecution: {
        QueryExecutionId: input.QueryExecutionId,
        Status: failing(sql) ? { State: 'FAILED', StateChangeReason: 'HIVE_CANNOT_OPEN_SPLIT' } : { State: 'SUCCEEDED' },
        StatementType: 'DML',
        SubstatementType: select ? 'SELECT' : 'INSERT',
        Statistics: { DataScannedInBytes: bytes },
      } as QueryExecution,
    };
  });
  athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => {
    const sql = statements[Number(input.QueryExecutionId.slice(2)) - 1] ?? '';
    const rows =
      answer(sql) ??
      (sql.startsWith(IDS_SELECT)
        ? daysIn(sql.slice(0, -' AS day_ids'.length - 1)).flatMap((day) => (idsOn.get(day) ?? []).map((id) => [id, day]))
        : contestedRows);
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: 'event_id' }, { Name: 'day' }] },
        Rows: [['event_id', 'day'], ...rows].map((row) => ({ Data: row.map((v) => ({ VarCharValue: v })) })),
      },
    };
  });
  bucketOfMap(s3, objects, log);

  let files: LakeObject[] = [];
  /** The files each relation over only some files was asked for (ListedLake.eventsOf; absent without `eventsOf`). */
  const only: string[][] = [];
  const lake = async (): Promise<ListedLake> => ({
    view: { relations: { events: EVENTS, identities: '(SELECT 1)' }, inputs: () => [] },
    events: files,
    ...(options.eventsOf
      ? {
          eventsOf: async (some: readonly LakeObject[]) => {
            only.push(some.map((o) => o.key));
            return ADDED_EVENTS;
          },
        }
      : {}),
  });
  /** A store as one invocation of the Tiles function builds it. */
  const newStore = () =>
    new AthenaTileStore({
      runner,
      s3: new S3Client({ region: 'eu-central-1' }),
      database: 'cohort_refresh',
      bucket: 'snapshots-bucket',
      lake,
      ...(options.foldBatchDays === undefined ? {} : { foldBatchDays: options.foldBatchDays }),
      // The index's files here are a few bytes: digests from the first byte on.
      ...(options.digestIndex ? { digestIndexFromBytes: 0 } : {}),
      // Rows streamed from a result file (csvResultBatches): the statements asked that way are recorded,
      // and each row comes as a batch of one, the SAME row array overwritten for the next: a reader
      // that kept rows (or batches) instead of using each before the next would see only the last row.
      ...(options.manyRows === undefined
        ? {}
        : {
            manyRows: async function* (sql: string, scanned: (bytes: number) => void) {
              options.manyRows?.push(sql);
              const { rows, statistics } = await runner.query(sql);
              scanned(statistics.dataScannedInBytes);
              const row: (string | null)[] = [];
              for (const values of rows) {
                row.splice(0, row.length, ...values.map((v) => v ?? null));
                yield [row];
              }
              row.splice(0, row.length, null, null);
            },
          }),
    });
  const store = newStore();
  return {
    store,
    newStore,
    only,
    objects,
    log,
    statements,
    scanned,
    setFiles: (next: LakeObject[]) => {
      files = next;
    },
    setIdsOn: (next: Record<string, string[]>) => {
      idsOn = new Map(Object.entries(next));
    },
    setContested: (rows: [string, string][]) => {
      contestedRows = rows;
    },
    setAnswer: (next: (sql: string) => string[][] | undefined) => {
      answer = next;
    },
    setFailing: (next: (sql: string) => boolean) => {
      failing = next;
    },
    fingerprint: (day: string) => JSON.parse(objects.get(fingerprintKey(day)) ?? 'null') as TileFingerprint | null,
    /** The INSERTs into the tiles table sent since the given statement count. */
    tileInserts: (since = 0) => statements.slice(since).filter((s) => s.startsWith('INSERT INTO "cohort_refresh"."tiles" ')),
  };
}

/** The SELECT of index days' ids whose digests are kept (athena-tile-ids.ts). */
const IDS_SELECT = 'SELECT DISTINCT event_id, day FROM (SELECT event_id, day FROM "cohort_refresh"."tiles_ids" WHERE day IN (';

const daysIn = (statement: string) => /WHERE day IN \(([^)]*)\)$/.exec(statement)?.[1]?.match(/\d{4}-\d{2}-\d{2}/g) ?? [];

describe('the Athena tile store', () => {
  beforeEach(() => {
    athena.reset();
    s3.reset();
  });

  it('builds every day of a cold lake with one INSERT INTO tiles of the partials, then writes each fingerprint', async () => {
    const w = world();
    const days = daysFrom('2026-03-01', 5);
    w.setFiles(daysFrom('2026-02-28', 7).map((dt) => eventFile(dt)));

    const report = await w.store.refresh({ measures: [PURCHASE, LOGIN], days, runId: 'r1' });

    expect(report).toEqual({ built: days, rebuilt: [], fresh: 0, bytesScanned: 5_000 + 400 + 30 + 700 });
    const [insert, ...more] = w.tileInserts();
    expect(more).toEqual([]);
    const partials = dayTilesSql({
      measures: [PURCHASE, LOGIN],
      dialect: athenaDialect,
      events: EVENTS,
      days,
      contested: '(SELECT DISTINCT event_id FROM "cohort_refresh"."tiles_contested")',
    });
    expect(insert).toBe(
      'INSERT INTO "cohort_refresh"."tiles" ("measure", "source", "user_key", "n", "total", "abs_total", "integral", "value", "latest_ts", "latest_event_id", "latest_json", "day")\n' +
        'SELECT "measure", "source", "user_key", "n", "total", "abs_total", "integral", "value", CAST("latest_ts" AS VARCHAR) AS "latest_ts", "latest_event_id", "latest_json", "day"\n' +
        `FROM (\n${partials}\n) AS rows_to_store\nWHERE day IN ('2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05')`,
    );
    // The fingerprint records the files of d-1..d+1 in the listing, and is written after the day's rows.
    expect(w.fingerprint('2026-03-01')).toEqual({
      day: '2026-03-01',
      inputs: ['2026-02-28', '2026-03-01', '2026-03-02'].map((dt) => ({
        path: `lake/events/dt=${dt}/part-0.parquet`,
        size: 1_000,
        version: '"v1"',
      })),
      measures: [LOGIN.id, PURCHASE.id].sort(),
      contested: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const insertAt = w.log.findIndex((line) => line.startsWith('query INSERT INTO "cohort_refresh"."tiles" '));
    for (const day of days) expect(w.log.indexOf(`put ${fingerprintKey(day)}`)).toBeGreaterThan(insertAt);
  });

  it('indexes the ids of every lake day, derives the contested ids from the index and rewrites their copies from their partitions only', async () => {
    const w = world();
    w.setFiles(daysFrom('2026-02-28', 5).map((dt) => eventFile(dt)));
    w.objects.set('tiles/contested/old-copies', 'parquet');
    w.setContested([['e1', '2026-03-01']]);

    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 2), runId: 'r1' });

    // Every day the lake can hold valid events on (each partition and a day each side) is indexed, by one INSERT.
    const lakeDays = daysFrom('2026-02-27', 7);
    expect(w.statements[0]).toBe(
      'INSERT INTO "cohort_refresh"."tiles_ids" ("event_id", "day")\nSELECT "event_id", "day"\n' +
        `FROM (\n${dayIdsSql(athenaDialect, EVENTS, lakeDays)}\n) AS rows_to_store\nWHERE day IN (${lakeDays.map((d) => `'${d}'`).join(', ')})`,
    );
    // No contested.json yet: every indexed id is a candidate; the lake is not read for them.
    const index = `(SELECT event_id, day FROM "cohort_refresh"."tiles_ids" WHERE day IN (${lakeDays.map((d) => `'${d}'`).join(', ')}))`;
    const contested = contestedFromIndexSql(index, `(SELECT event_id FROM ${index} AS all_ids)`);
    expect(w.statements[1]).toBe(`${contested}\nORDER BY day, event_id`);
    // The copies come from the partitions that can hold a valid copy on 03-01, written before the old copies go.
    expect(w.statements[2]).toBe(
      'INSERT INTO "cohort_refresh"."tiles_contested" ("event_id", "source", "user_id", "event_name", "ts", "properties", "value", "dt")\n' +
        'SELECT "event_id", "source", "user_id", "event_name", CAST("ts" AS VARCHAR) AS "ts", "properties", "value", "dt"\n' +
        `FROM (\n${contestedCopiesSql(EVENTS, `(${contested}) AS contested_days`, ['2026-02-28', '2026-03-01', '2026-03-02'])}\n) AS rows_to_store`,
    );
    expect(w.log.indexOf('delete tiles/contested/old-copies')).toBeGreaterThan(
      w.log.findIndex((l) => l.startsWith('query INSERT INTO "cohort_refresh"."tiles_contested"')),
    );
    expect(JSON.parse(w.objects.get('tiles/contested.json') ?? '{}')).toEqual({ '2026-03-01': ['e1'] });
    // A day with a contested copy has another digest than a day without.
    expect(w.fingerprint('2026-03-01')?.contested).not.toBe(w.fingerprint('2026-03-02')?.contested);

    // Nothing changed: the refresh runs no query at all.
    const quiet = w.statements.length;
    expect(await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 2), runId: 'r2' })).toMatchObject({
      fresh: 2,
      bytesScanned: 0,
    });
    expect(w.statements).toHaveLength(quiet);

    // A file of dt=2026-03-03 is rewritten and the id's other copy is gone: only its index days are read again,
    // the candidates are their ids and the ids contested before; 03-01 is rebuilt (its contested ids changed).
    w.setFiles(daysFrom('2026-02-28', 5).map((dt) => eventFile(dt, dt === '2026-03-03' ? '"v2"' : '"v1"')));
    w.setContested([]);
    const since = w.statements.length;
    const report = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 2), runId: 'r3' });
    const changed = ['2026-03-02', '2026-03-03', '2026-03-04'];
    expect(w.statements[since]).toContain(`WHERE day IN (${changed.map((d) => `'${d}'`).join(', ')})`);
    expect(w.statements[since + 1]).toBe(
      `${contestedFromIndexSql(
        index,
        `(SELECT event_id FROM (SELECT event_id, day FROM "cohort_refresh"."tiles_ids" WHERE day IN (${changed.map((d) => `'${d}'`).join(', ')})) AS new_ids UNION SELECT DISTINCT event_id FROM "cohort_refresh"."tiles_contested" AS contested_before)`,
      )}\nORDER BY day, event_id`,
    );
    expect(report).toMatchObject({
      built: [],
      rebuilt: [
        { day: '2026-03-02', reason: 'inputs' },
        { day: '2026-03-01', reason: 'contested' },
      ].sort((a, b) => (a.day < b.day ? -1 : 1)),
    });
    expect(JSON.parse(w.objects.get('tiles/contested.json') ?? '{}')).toEqual({});
  });

  it('rebuilds only the new day and the neighbours of a rewritten file, deleting their fingerprints and files first', async () => {
    const w = world();
    const files = daysFrom('2026-02-28', 6).map((dt) => eventFile(dt));
    w.setFiles(files);
    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 5), runId: 'r1' });
    const before = w.statements.length;
    w.log.length = 0;

    // A new day arrives (dt=2026-03-06, the slack of 03-05 too), and the file of dt=2026-03-03 is rewritten (new ETag).
    w.setFiles([...files.map((f) => (f.dt === '2026-03-03' ? eventFile('2026-03-03', '"v2"') : f)), eventFile('2026-03-06')]);
    const report = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 6), runId: 'r2' });

    expect(report.built).toEqual(['2026-03-06']);
    expect(report.rebuilt).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05'].map((day) => ({ day, reason: 'inputs' })));
    expect(report.fresh).toBe(1);
    expect(report.bytesScanned).toBe(5_000 + 400 + 30 + 700);
    // Nearby days share one INSERT: 03-02..03-06.
    expect(w.tileInserts(before).map(daysIn)).toEqual([['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06']]);
    const insertAt = w.log.findIndex((line) => line.startsWith('query INSERT INTO "cohort_refresh"."tiles" '));
    expect(w.log.indexOf(`delete ${fingerprintKey('2026-03-03')}`)).toBeLessThan(insertAt);
    expect(w.log.findIndex((l) => l.startsWith('delete tiles/days/day=2026-03-03/'))).toBeLessThan(insertAt);
    expect(w.log.some((l) => l.startsWith('delete tiles/days/day=2026-03-01/') || l === `delete ${fingerprintKey('2026-03-01')}`)).toBe(
      false,
    );
    expect(w.fingerprint('2026-03-03')?.inputs.find((f) => f.path.includes('dt=2026-03-03'))?.version).toBe('"v2"');
  });

  it('keeps a day whose partitions only gained files without a valid event of it, after one query over those files only', async () => {
    const w = world({ eventsOf: true });
    const files = daysFrom('2026-02-28', 6).map((dt) => eventFile(dt));
    w.setFiles(files);
    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 4), runId: 'r1' });
    const before = w.statements.length;
    const kept = w.fingerprint('2026-03-03');
    // A realtime tick's file lands in dt=2026-03-05 (read by the tiles of 03-04 as slack): its valid events lie on 03-05 and 03-04.
    const tick: LakeObject = { ...eventFile('2026-03-05'), key: 'lake/events/dt=2026-03-05/tick-1.jsonl', format: 'jsonl', size: 40 };
    w.setFiles([...files, tick]);
    w.setAnswer((sql) => (sql === validDaysSql(athenaDialect, ADDED_EVENTS) ? [['2026-03-05']] : undefined));

    const first = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 4), runId: 'r2' });

    // 03-04 is kept: no INSERT, its fingerprint now names the new file; the query read the tick's file only.
    // The index: 03-05 re-indexed (400), 03-04 and 03-06 kept by the same query; the contested ids derived again (30 + 700).
    expect(first).toEqual({ built: [], rebuilt: [], fresh: 4, bytesScanned: 30 + 400 + 30 + 700 });
    expect(w.statements.filter((s) => s.startsWith('INSERT INTO "cohort_refresh"."tiles_ids"')).at(-1)).toMatch(
      /WHERE day IN \('2026-03-05'\)$/,
    );
    expect(w.only).toEqual([[tick.key]]);
    expect(w.statements.slice(before).filter((s) => s.startsWith('SELECT DISTINCT'))).toEqual([validDaysSql(athenaDialect, ADDED_EVENTS)]);
    expect(w.tileInserts(before)).toEqual([]);
    expect(w.fingerprint('2026-03-04')?.inputs.map((f) => f.path)).toContain(tick.key);
    expect(w.fingerprint('2026-03-03')).toEqual(kept);

    // The next file holds an event of 03-04 (a day late, within the slack): 03-04 is rebuilt, from the whole partitions.
    const late: LakeObject = { ...tick, key: 'lake/events/dt=2026-03-05/tick-2.jsonl' };
    w.setFiles([...files, tick, late]);
    w.setAnswer((sql) => (sql === validDaysSql(athenaDialect, ADDED_EVENTS) ? [['2026-03-04'], ['2026-03-05']] : undefined));
    const since = w.statements.length;
    const second = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 4), runId: 'r3' });
    expect(second).toMatchObject({ built: [], rebuilt: [{ day: '2026-03-04', reason: 'inputs' }], fresh: 3 });
    expect(w.only.at(-1)).toEqual([late.key]);
    expect(w.tileInserts(since).map(daysIn)).toEqual([['2026-03-04']]);

    // A rewritten file is never kept this way: no query over files, the day is rebuilt.
    w.setFiles([...files.map((f) => (f.dt === '2026-03-02' ? eventFile('2026-03-02', '"v2"') : f)), tick, late]);
    const queries = w.only.length;
    const third = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 4), runId: 'r4' });
    expect(third.rebuilt.map((r) => r.day)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03']);
    expect(w.only).toHaveLength(queries);
  });

  it('derives the contested ids of a tick from the re-indexed day and the days its ids meet (by their digests), not the whole index', async () => {
    const fromFile: string[] = [];
    const w = world({ digestIndex: true, manyRows: fromFile });
    const files = daysFrom('2026-03-01', 10).map((dt) => eventFile(dt));
    w.setFiles(files);
    const lakeDays = daysFrom('2026-02-28', 12);
    w.setIdsOn(Object.fromEntries(lakeDays.map((day) => [day, [`only-${day}`]])));
    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 10), runId: 'r1' });
    // Each indexed day's digests are written after the INSERT that indexed it.
    const insertAt = w.log.findIndex((l) => l.startsWith('query INSERT INTO "cohort_refresh"."tiles_ids"'));
    for (const day of lakeDays) expect(w.log.indexOf(`put tiles/ids-digests/${day}.txt`)).toBeGreaterThan(insertAt);

    // A tick: today's partition (03-10) gains a file; its ids include a copy of an id of 03-04.
    w.setFiles([...files, { ...eventFile('2026-03-10'), key: 'lake/events/dt=2026-03-10/tick-1.jsonl', format: 'jsonl', size: 40 }]);
    w.setIdsOn({
      ...Object.fromEntries(lakeDays.map((day) => [day, [`only-${day}`]])),
      '2026-03-10': ['only-2026-03-10', 'only-2026-03-04', 'new-1'],
    });
    w.log.length = 0;
    const since = w.statements.length;
    const tick = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 10), runId: 'r2' });
    // Its bytes: the tiles' INSERT, the index's, the SELECT of the re-indexed ids, the derivation and the copies.
    expect(tick.bytesScanned).toBe(5_000 + 400 + 20 + 30 + 700);

    const reindexed = ['2026-03-09', '2026-03-10', '2026-03-11'];
    expect(daysIn(w.statements[since] ?? '')).toEqual(reindexed);
    expect(w.statements[since + 1]).toBe(
      `SELECT DISTINCT event_id, day FROM (SELECT event_id, day FROM "cohort_refresh"."tiles_ids" WHERE day IN (${reindexed.map((d) => `'${d}'`).join(', ')})) AS day_ids`,
    );
    // The derivation reads the index of the re-indexed days and of 03-04 only (contested.json lists none before).
    const read = ['2026-03-04', ...reindexed];
    expect(w.statements[since + 2]).toBe(
      `${contestedFromIndexSql(
        `(SELECT event_id, day FROM "cohort_refresh"."tiles_ids" WHERE day IN (${read.map((d) => `'${d}'`).join(', ')}))`,
        `(SELECT event_id FROM (SELECT event_id, day FROM "cohort_refresh"."tiles_ids" WHERE day IN (${reindexed.map((d) => `'${d}'`).join(', ')})) AS new_ids UNION SELECT DISTINCT event_id FROM "cohort_refresh"."tiles_contested" AS contested_before)`,
      )}\nORDER BY day, event_id`,
    );
    // A re-indexed day loses its fingerprint, then its digests, before its files.
    expect(w.log.indexOf('delete tiles/ids-fingerprints/2026-03-10.json')).toBeLessThan(
      w.log.indexOf('delete tiles/ids-digests/2026-03-10.txt'),
    );
    expect(w.log.indexOf('delete tiles/ids-digests/2026-03-10.txt')).toBeLessThan(
      w.log.findIndex((l) => l.startsWith('delete tiles/ids/day=2026-03-10/')),
    );

    // A store indexed before the digests existed: one SELECT of the undigested days' ids, then only the days they meet.
    for (const key of [...w.objects.keys()]) if (key.startsWith('tiles/ids-digests/') && !key.includes('2026-03-1')) w.objects.delete(key);
    w.setFiles([...files, { ...eventFile('2026-03-10'), key: 'lake/events/dt=2026-03-10/tick-2.jsonl', format: 'jsonl', size: 40 }]);
    const again = w.statements.length;
    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 10), runId: 'r3' });
    const undigested = lakeDays.filter((day) => !day.startsWith('2026-03-1') && day !== '2026-03-09');
    expect(
      w.statements
        .slice(again)
        .filter((s) => s.startsWith(IDS_SELECT))
        .map((s) => daysIn(s.slice(0, -' AS day_ids'.length - 1))),
    ).toEqual([reindexed, undigested]);
    // The ids are read from the queries' result files (millions of rows), and only they.
    expect(fromFile).toEqual(w.statements.filter((s) => s.startsWith(IDS_SELECT)));
    const derivation = w.statements.slice(again).find((s) => s.endsWith('ORDER BY day, event_id'));
    expect(derivation).toContain(`WHERE day IN (${read.map((d) => `'${d}'`).join(', ')})) AS idx WHERE`);
  });

  it('rebuilds the days that gained files when the lake cannot read files on their own', async () => {
    const w = world();
    const files = daysFrom('2026-02-28', 6).map((dt) => eventFile(dt));
    w.setFiles(files);
    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 4), runId: 'r1' });
    w.setFiles([...files, { ...eventFile('2026-03-05'), key: 'lake/events/dt=2026-03-05/tick-1.jsonl' }]);
    const report = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 4), runId: 'r2' });
    expect(report.rebuilt).toEqual([{ day: '2026-03-04', reason: 'inputs' }]);
  });

  describe('the population index', () => {
    const POPULATION = '(SELECT source, user_key, first_day, last_day FROM "cohort_refresh"."tiles_population")';
    const rowsOf = (days: readonly string[]) =>
      `(SELECT measure, source, user_key, day FROM "cohort_refresh"."tiles" WHERE day IN (${days.map((d) => `'${d}'`).join(', ')}))`;
    const insertOf = (sql: string) =>
      'INSERT INTO "cohort_refresh"."tiles_population" ("source", "user_key", "first_day", "last_day")\n' +
      `SELECT "source", "user_key", "first_day", "last_day"\nFROM (\n${sql}\n) AS rows_to_store`;

    it('is built once from the presence rows of every tile day, then reused while no tile file changed', async () => {
      const w = world({ eventsOf: true });
      const files = daysFrom('2026-02-28', 5).map((dt) => eventFile(dt));
      w.setFiles(files);
      const days = daysFrom('2026-03-01', 3);
      await w.store.refresh({ measures: [LOGIN], days, runId: 'r1' });
      const before = w.statements.length;
      w.log.length = 0;

      // What its INSERT scanned is reported (the Tiles step counts it in tiles_build).
      expect(await w.store.population(days)).toEqual({ population: POPULATION, bytesScanned: 900 });

      expect(w.statements.slice(before)).toEqual([insertOf(populationIndexSql(rowsOf(days)))]);
      const insertAt = w.log.findIndex((l) => l.startsWith('query INSERT INTO "cohort_refresh"."tiles_population"'));
      expect(w.log.indexOf('put tiles/population.json')).toBeGreaterThan(insertAt);
      const state = JSON.parse(w.objects.get('tiles/population.json') ?? '{}') as { inputs: { path: string }[] };
      expect(state.inputs.map((f) => f.path)).toEqual(days);

      // A kept day (only a file without its events came) changes no tile file: nothing is run.
      w.setFiles([...files, { ...eventFile('2026-03-04'), key: 'lake/events/dt=2026-03-04/tick.jsonl' }]);
      w.setAnswer((sql) => (sql === validDaysSql(athenaDialect, ADDED_EVENTS) ? [['2026-03-04']] : undefined));
      await w.store.refresh({ measures: [LOGIN], days, runId: 'r2' });
      const since = w.statements.length;
      expect(await w.newStore().population(days)).toEqual({ population: POPULATION, bytesScanned: 0 });
      expect(w.statements.slice(since)).toEqual([]);
    });

    it('gains the keys of added days from the index and those days only, then deletes its old files', async () => {
      const w = world();
      w.setFiles(daysFrom('2026-02-28', 6).map((dt) => eventFile(dt)));
      await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r1' });
      await w.store.population(daysFrom('2026-03-01', 3));
      const oldFiles = [...w.objects.keys()].filter((k) => k.startsWith('tiles/population/'));
      await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 4), runId: 'r2' });
      const before = w.statements.length;
      w.log.length = 0;

      expect(await w.store.population(daysFrom('2026-03-01', 4))).toEqual({ population: POPULATION, bytesScanned: 900 });

      expect(w.statements.slice(before)).toEqual([insertOf(populationAddedSql(POPULATION, rowsOf(['2026-03-04'])))]);
      const insertAt = w.log.findIndex((l) => l.startsWith('query INSERT'));
      expect(w.log.indexOf('delete tiles/population.json')).toBeLessThan(insertAt);
      for (const key of oldFiles) expect(w.log.indexOf(`delete ${key}`)).toBeGreaterThan(insertAt);
      expect([...w.objects.keys()].filter((k) => k.startsWith('tiles/population/'))).toHaveLength(1);
      expect(w.log.at(-1)).toBe('put tiles/population.json');
    });

    it('is built again from every day when a day was rebuilt, and erasure drops it', async () => {
      const w = world();
      const files = daysFrom('2026-02-28', 5).map((dt) => eventFile(dt));
      w.setFiles(files);
      const days = daysFrom('2026-03-01', 3);
      await w.store.refresh({ measures: [LOGIN], days, runId: 'r1' });
      await w.store.population(days);
      w.setFiles(files.map((f) => (f.dt === '2026-03-03' ? eventFile('2026-03-03', '"v2"') : f)));
      await w.store.refresh({ measures: [LOGIN], days, runId: 'r2' });
      const before = w.statements.length;
      w.log.length = 0;

      await w.store.population(days);

      expect(w.statements.slice(before)).toEqual([insertOf(populationIndexSql(rowsOf(days)))]);
      const insertAt = w.log.findIndex((l) => l.startsWith('query INSERT'));
      expect(w.log.findIndex((l) => l.startsWith('delete tiles/population/'))).toBeLessThan(insertAt);

      await w.store.forget(['u1']);
      expect([...w.objects.keys()].filter((k) => k.startsWith('tiles/population'))).toEqual([]);
    });
  });

  it('backfills every day with all measures when the catalog needs a new one', async () => {
    const w = world();
    w.setFiles(daysFrom('2026-02-28', 5).map((dt) => eventFile(dt)));
    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r1' });
    const before = w.statements.length;

    const report = await w.store.refresh({ measures: [LOGIN, PURCHASE], days: daysFrom('2026-03-01', 3), runId: 'r2' });

    expect(report.rebuilt).toEqual(daysFrom('2026-03-01', 3).map((day) => ({ day, reason: 'measures' })));
    const [insert] = w.tileInserts(before);
    expect(insert).toContain(`'${PURCHASE.id}' AS measure`);
    expect(insert).toContain(`'${LOGIN.id}' AS measure`);
    expect(w.fingerprint('2026-03-02')?.measures).toEqual([LOGIN.id, PURCHASE.id].sort());
    // A later refresh that needs fewer measures reuses the tiles.
    expect(await w.store.refresh({ measures: [PURCHASE], days: daysFrom('2026-03-01', 3), runId: 'r3' })).toMatchObject({
      built: [],
      rebuilt: [],
      fresh: 3,
    });
  });

  it(`writes at most ${MAX_DAYS_PER_INSERT} partitions per INSERT and builds days far apart separately`, async () => {
    const w = world();
    const cold = daysFrom('2025-01-01', 250);
    const far = ['2025-12-01'];
    w.setFiles([...daysFrom('2024-12-31', 252), ...far].map((dt) => eventFile(dt)));

    const report = await w.store.refresh({ measures: [LOGIN], days: [...far, ...cold], runId: 'r1' });

    expect(report.built).toEqual([...cold, ...far]);
    const batches = w.tileInserts().map(daysIn);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50, 1]);
    expect(batches.flat()).toEqual([...cold, ...far]);
    expect(report.bytesScanned).toBe(4 * 5_000 + 4 * 400 + 30 + 700);
    const indexed = w.statements.filter((s) => s.startsWith('INSERT INTO "cohort_refresh"."tiles_ids"')).map(daysIn);
    expect(indexed.map((b) => b.length)).toEqual([100, 100, 54, 3]);
    // Each INSERT scans the partitions of its own days only (one day of slack each side).
    expect(w.tileInserts()[3]).toContain("dt >= '2025-11-30' AND dt <= '2025-12-02'");
  });

  it('estimates the bytes of a read from file sizes: tile files of its days, the contested copies and the lake files of its partitions', async () => {
    const w = world();
    w.setFiles(daysFrom('2026-02-28', 5).map((dt) => eventFile(dt)));
    await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r1' });
    w.objects.set('tiles/contested/copies.parquet', 'x'.repeat(40));
    const contestedBytes = () =>
      [...w.objects].filter(([key]) => key.startsWith('tiles/contested/')).reduce((sum, [, body]) => sum + body.length, 0);
    expect(contestedBytes()).toBeGreaterThanOrEqual(40);
    const tileBytes = (day: string) =>
      [...w.objects].filter(([key]) => key.startsWith(`tiles/days/day=${day}/`)).reduce((sum, [, body]) => sum + body.length, 0);
    expect(tileBytes('2026-03-01')).toBeGreaterThan(0);

    expect(await w.store.bytesOf({ days: [], partitions: ['2026-03-03', '2026-03-04', '2026-03-09'] })).toBe(2 * 1_000);
    expect(await w.store.bytesOf({ days: ['2026-03-01', '2026-03-02'], partitions: ['2026-03-04'] })).toBe(
      tileBytes('2026-03-01') + tileBytes('2026-03-02') + contestedBytes() + 1_000,
    );
  });

  it('sends statements that parse with the Trino grammar and call only Trino functions, and its relations make a tiled query that does too', async () => {
    const w = world({ eventsOf: true });
    w.setFiles(daysFrom('2026-02-28', 4).map((dt) => eventFile(dt)));
    const measures = [LOGIN, PURCHASE, tileMeasure({ events: ['plan'], where: [] }, { kind: 'latest', of: 'tier' })];
    await w.store.refresh({ measures, days: daysFrom('2026-03-01', 2), runId: 'r1' });
    const population = await w.store.population(daysFrom('2026-03-01', 2));
    const tiled = compileTiledRefresh({
      cohorts: catalog({ active: 'event: login\nwithin: 7d', plan_tier: 'latest: {event: plan, property: tier}\neq: pro' }),
      asOf: new Date('2026-03-03T12:00:00Z'),
      lake: LAKE,
      dialect: athenaDialect,
      tiles: { ...w.store.relations(daysFrom('2026-03-01', 2)), ...population },
      firstPartition: '2026-02-28',
    });

    // A file added to a stored day's partitions is read on its own (the kept day).
    w.setFiles([
      ...daysFrom('2026-02-28', 4).map((dt) => eventFile(dt)),
      { ...eventFile('2026-03-03'), key: 'lake/events/dt=2026-03-03/tick.jsonl' },
    ]);
    await w.store.refresh({ measures, days: daysFrom('2026-03-01', 3), runId: 'r2' });
    await w.store.population(daysFrom('2026-03-01', 3));
    expect(w.statements).toContain(validDaysSql(athenaDialect, ADDED_EVENTS));
    expect(tiled.sql).toContain(population.population);

    for (const sql of [...w.statements, tiled.sql]) expect(() => parseTrino(sql)).not.toThrow();
    // `VALUES ... AS tile_uses (...)` and the type `timestamp(6)` look like calls to the parser-free check.
    const known = new Set([...TRINO_FUNCTIONS, 'bool_and', 'join', 'values', 'tile_uses', 'raw_uses', 'timestamp']);
    expect(calledFunctions([...w.statements, tiled.sql].join('\n')).filter((f) => !known.has(f))).toEqual([]);
  });

  it('reads the tiles of the asked days from the tiles table, instants cast back exactly, and nothing when no day is asked', () => {
    const { store } = world();
    const relations = store.relations(['2026-03-02', '2026-03-01']);
    expect(relations.tiles).toBe(
      '(SELECT "measure", "source", "user_key", "n", "total", "abs_total", "integral", "value", ' +
        'CAST("latest_ts" AS timestamp(6) with time zone) AS "latest_ts", "latest_event_id", "latest_json", "day" ' +
        `FROM "cohort_refresh"."tiles" WHERE day IN ('2026-03-01', '2026-03-02'))`,
    );
    expect(relations.contestedIds).toBe('(SELECT DISTINCT event_id FROM "cohort_refresh"."tiles_contested")');
    expect(relations.contestedEvents).toContain('CAST("ts" AS timestamp(6) with time zone) AS "ts"');
    expect(store.relations([]).tiles).toBe(noTilesSql(athenaDialect));
    expect(
      () =>
        new AthenaTileStore({
          runner,
          s3: new S3Client({}),
          database: 'Robert"; DROP',
          bucket: 'snapshots-bucket',
          lake: async () => ({}) as never,
        }),
    ).toThrow(UnsafeSqlValueError);
  });

  describe('erasure', () => {
    const TILES = '"cohort_refresh"."tiles"';
    const IDENTITIES = '(SELECT 1)';
    /** The stored partitions of the three days, as stored (never the whole projected day range). */
    const STORED = `(SELECT * FROM ${TILES} WHERE day IN ('2026-03-01', '2026-03-02', '2026-03-03'))`;
    /** Three days built, each with one tile file; the person's keys on 03-02 and among the contested copies. */
    async function erasureWorld() {
      const w = world();
      w.setFiles(daysFrom('2026-02-28', 5).map((dt) => eventFile(dt)));
      await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r1' });
      w.setAnswer((sql) =>
        sql.startsWith('SELECT DISTINCT day FROM') ? [['2026-03-02']] : sql.startsWith('SELECT count(*)') ? [['2']] : undefined,
      );
      w.log.length = 0;
      const filesOf = (prefix: string) => [...w.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
      return { ...w, filesOf };
    }

    it('rewrites each tile day holding the person’s keys and the contested copies without them, fingerprints kept', async () => {
      const w = await erasureWorld();
      const before = { day: w.filesOf('tiles/days/day=2026-03-02/'), other: w.filesOf('tiles/days/day=2026-03-01/') };
      const contestedBefore = w.filesOf('tiles/contested/');
      const fingerprint = w.fingerprint('2026-03-02');
      const since = w.statements.length;

      const rewritten = await w.store.forget(['bob', 'Bob']);

      expect(rewritten).toEqual(['s3://snapshots-bucket/tiles/days/day=2026-03-02/', 's3://snapshots-bucket/tiles/contested/']);
      const [held, insert, contestedHeld, contestedInsert, ...more] = w.statements.slice(since);
      expect(more).toEqual([]);
      expect(held).toBe(
        `SELECT DISTINCT day FROM (${tileRowsHeldSql(athenaDialect, STORED, IDENTITIES, ['bob', 'Bob'])}) AS held ORDER BY day`,
      );
      const kept = tileRowsKeptSql(athenaDialect, `(SELECT * FROM ${TILES} WHERE day = '2026-03-02')`, IDENTITIES, ['bob', 'Bob']);
      expect(insert).toBe(
        'INSERT INTO "cohort_refresh"."tiles" ("measure", "source", "user_key", "n", "total", "abs_total", "integral", "value", "latest_ts", "latest_event_id", "latest_json", "day")\n' +
          'SELECT "measure", "source", "user_key", "n", "total", "abs_total", "integral", "value", CAST("latest_ts" AS VARCHAR) AS "latest_ts", "latest_event_id", "latest_json", "day"\n' +
          `FROM (\n${kept}\n) AS rows_to_store`,
      );
      expect(contestedHeld).toMatch(/^SELECT count\(\*\) FROM \(SELECT \* FROM "cohort_refresh"."tiles_contested" AS r WHERE NOT \(/);
      expect(contestedInsert).toContain(eventRowsKeptSql(athenaDialect, '"cohort_refresh"."tiles_contested"', IDENTITIES, ['bob', 'Bob']));
      for (const sql of w.statements.slice(since)) expect(() => parseTrino(sql)).not.toThrow();
      // The day's old files are gone, its new file is there, the other days are untouched and its fingerprint is the same.
      const after = w.filesOf('tiles/days/day=2026-03-02/');
      expect(after).toHaveLength(1);
      expect(after.some((key) => before.day.includes(key))).toBe(false);
      expect(w.filesOf('tiles/days/day=2026-03-01/')).toEqual(before.other);
      expect(w.fingerprint('2026-03-02')).toEqual(fingerprint);
      expect(w.filesOf('tiles/contested/').some((key) => contestedBefore.includes(key))).toBe(false);
      expect(w.filesOf('tiles/contested/')).toHaveLength(1);
      // Order: the fingerprint goes first and comes back last, the old files go after the new rows are in.
      const at = (line: string) => w.log.findIndex((l) => l.startsWith(line));
      expect(at(`delete ${fingerprintKey('2026-03-02')}`)).toBeLessThan(at('query INSERT INTO "cohort_refresh"."tiles" '));
      expect(at('query INSERT INTO "cohort_refresh"."tiles" ')).toBeLessThan(at(`delete ${before.day[0]}`));
      expect(at(`delete ${before.day[0]}`)).toBeLessThan(at(`put ${fingerprintKey('2026-03-02')}`));
      // The refresh after it finds every day fresh.
      w.setAnswer(() => undefined);
      expect(await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r2' })).toMatchObject({ fresh: 3 });
    });

    it('loses nothing when a rewrite fails midway: the day is missing (old files, no fingerprint), the retry clears it and the next refresh rebuilds it', async () => {
      const w = await erasureWorld();
      const old = w.filesOf('tiles/days/day=2026-03-02/');
      w.setFailing((sql) => sql.startsWith('INSERT INTO "cohort_refresh"."tiles" '));

      await expect(w.store.forget(['bob'])).rejects.toThrow(/HIVE_CANNOT_OPEN_SPLIT/);

      // Never read half-done: no fingerprint (a refresh sees the day missing), the old files still there.
      expect(w.fingerprint('2026-03-02')).toBeNull();
      expect(w.filesOf('tiles/days/day=2026-03-02/')).toEqual(old);
      // The deletion request is carried out again by the next run: a day without fingerprint holding the keys loses its files.
      w.setFailing(() => false);
      const since = w.statements.length;
      expect(await w.store.forget(['bob'])).toContain('s3://snapshots-bucket/tiles/days/day=2026-03-02/');
      expect(w.tileInserts(since)).toEqual([]);
      expect(w.filesOf('tiles/days/day=2026-03-02/')).toEqual([]);
      // The Tiles step then builds it from the lake (and screens it, see forgetForgotten).
      w.setAnswer(() => undefined);
      const report = await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r2' });
      expect(report).toMatchObject({ built: ['2026-03-02'], rebuilt: [], fresh: 2 });
      expect(w.fingerprint('2026-03-02')).not.toBeNull();
    });

    it('drops the rollup (its state first, then its slot) when it holds the person: the next refresh builds its days again', async () => {
      const w = await erasureWorld();
      w.objects.set('tiles/rollup.json', '{"slot":"1583-01-01"}');
      w.objects.set('tiles/days/day=1583-01-01/rollup-1', 'parquet');
      w.setAnswer((sql) =>
        sql.startsWith('SELECT DISTINCT day FROM') ? [['1583-01-01']] : sql.startsWith('SELECT count(*)') ? [['0']] : undefined,
      );
      const since = w.statements.length;

      expect(await w.store.forget(['bob'])).toEqual(['s3://snapshots-bucket/tiles/days/day=1583-01-01/']);

      expect(w.statements[since]).toContain("WHERE day IN ('1583-01-01', '2026-03-01', '2026-03-02', '2026-03-03')");
      expect(w.tileInserts(since)).toEqual([]);
      expect(w.filesOf('tiles/days/day=1583-01-01/')).toEqual([]);
      expect(w.objects.has('tiles/rollup.json')).toBe(false);
      expect(w.log.indexOf('delete tiles/rollup.json')).toBeLessThan(w.log.indexOf('delete tiles/days/day=1583-01-01/rollup-1'));
    });

    it('after a build, forgets the persons the erasure records name among the keys of the built days and the contested copies', async () => {
      const w = await erasureWorld();
      const persons = tilePersonsSql(
        athenaDialect,
        `(SELECT * FROM ${TILES} WHERE day IN ('2026-03-02'))`,
        w.store.relations([]).contestedEvents,
        IDENTITIES,
      );
      w.setAnswer((sql) => (sql === persons ? [['ann'], ['bob'], ['cid']] : sql.startsWith('SELECT DISTINCT day FROM') ? [] : [['0']]));
      // (a population index made by an earlier refresh)
      const index = ['tiles/population.json', 'tiles/population/20260101_q_0'];
      for (const key of index) w.objects.set(key, 'kept');
      const since = w.statements.length;

      expect(await w.store.forgetForgotten((id) => id === 'bob', ['2026-03-02'])).toEqual([]);
      // Only the built day is looked at (not every stored one), and the population index is not dropped.
      const built = `(SELECT * FROM ${TILES} WHERE day IN ('2026-03-02'))`;
      expect(w.statements.slice(since)).toEqual([
        persons,
        `SELECT DISTINCT day FROM (${tileRowsHeldSql(athenaDialect, built, IDENTITIES, ['bob'])}) AS held ORDER BY day`,
        expect.stringMatching(/^SELECT count\(\*\)/),
      ]);
      expect(index.filter((key) => w.objects.has(key))).toEqual(index);
      expect(() => parseTrino(persons)).not.toThrow();
      // Nobody forgotten among them: one query, nothing rewritten.
      const next = w.statements.length;
      expect(await w.store.forgetForgotten(() => false, ['2026-03-02'])).toEqual([]);
      expect(w.statements.slice(next)).toEqual([persons]);
    });

    it('screens the days a refresh built while someone was forgotten and stopped before screening, on the next run', async () => {
      // GIVEN a refresh with someone forgotten that builds three days, then stops before its screen
      const w = world();
      w.setFiles(daysFrom('2026-02-28', 5).map((dt) => eventFile(dt)));
      await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r1', screen: true });
      expect(JSON.parse(w.objects.get('tiles/unscreened.json') ?? 'null')).toEqual(daysFrom('2026-03-01', 3));
      // WHEN the next run builds nothing and screens what it built (nothing)
      const persons = tilePersonsSql(athenaDialect, STORED, w.store.relations([]).contestedEvents, IDENTITIES);
      w.setAnswer((sql) => (sql === persons ? [['ann'], ['bob']] : sql.startsWith('SELECT DISTINCT day FROM') ? [] : [['0']]));
      const since = w.statements.length;
      expect(await w.store.forgetForgotten((id) => id === 'bob', [])).toEqual([]);
      // THEN the three days are read, bob's rows looked for in them, and the mark is gone
      expect(w.statements.slice(since)).toEqual([
        persons,
        `SELECT DISTINCT day FROM (${tileRowsHeldSql(athenaDialect, STORED, IDENTITIES, ['bob'])}) AS held ORDER BY day`,
        expect.stringMatching(/^SELECT count\(\*\)/),
      ]);
      expect(w.objects.has('tiles/unscreened.json')).toBe(false);
      // AND a refresh without anyone forgotten leaves no mark
      await w.store.refresh({ measures: [LOGIN], days: daysFrom('2026-03-01', 3), runId: 'r2' });
      expect(w.objects.has('tiles/unscreened.json')).toBe(false);
    });
  });
});

describe('expiry in the Athena tile store', () => {
  const DAYS = daysFrom('2026-03-01', 10);
  const expiry = (keepFrom: string): TileExpiry => ({ keepFrom, rollupMeasures: [LOGIN.id] });
  const quoted = (days: readonly string[]) => days.map((d) => `'${d}'`).join(', ');
  /** A world whose stores fold any number of expired days (FOLD_BATCH_DAYS waits for a week). */
  const expiring = (foldBatchDays = 1) => {
    const w = world({ foldBatchDays });
    w.setFiles(daysFrom('2026-02-28', 12).map((dt) => eventFile(dt)));
    const dayFolders = () =>
      [...new Set([...w.objects.keys()].filter((k) => k.startsWith('tiles/days/')).map((k) => k.split('/')[2]?.slice(4)))].sort();
    const state = () =>
      JSON.parse(w.objects.get(ROLLUP_STATE_KEY) ?? 'null') as { slot: string; until: string; fingerprints: TileFingerprint[] } | null;
    return { ...w, dayFolders, state };
  };

  beforeEach(() => {
    athena.reset();
    s3.reset();
  });

  it('folds the days before the first day kept into a rollup slot with one INSERT, commits it, then deletes their fingerprints and files', async () => {
    // GIVEN ten days built
    const w = expiring();
    expect((await w.store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-06') })).built).toEqual(DAYS);
    // WHEN the days before 2026-03-06 expire
    const since = w.statements.length;
    const logAt = w.log.length;
    expect(await w.store.expire('2026-03-06')).toEqual(DAYS.slice(0, 5));
    // THEN one INSERT folds them into the first slot, read back from the tiles table
    const [fold, ...more] = w.statements.slice(since);
    expect(more).toEqual([]);
    const columns =
      '"measure", "source", "user_key", "n", "total", "abs_total", "integral", "value", CAST("latest_ts" AS timestamp(6) with time zone) AS "latest_ts", "latest_event_id", "latest_json"';
    const rows = `(SELECT ${columns} FROM "cohort_refresh"."tiles" WHERE "day" IN (${quoted(DAYS.slice(0, 5))}))`;
    expect(fold).toMatch(/^INSERT INTO "cohort_refresh"."tiles" \(/);
    expect(fold).toContain(`SELECT folded.*, '${ROLLUP_SLOTS[0]}' AS day FROM (${rollupSql(athenaDialect, rows)}) AS folded`);
    expect(fold?.endsWith(`WHERE day IN ('${ROLLUP_SLOTS[0]}')`)).toBe(true);
    // AND the state names the slot, its end and the folded days' fingerprints, written after the INSERT and before any delete
    expect(w.state()).toMatchObject({ slot: ROLLUP_SLOTS[0], until: '2026-03-06' });
    expect(w.state()?.fingerprints.map((f) => f.day)).toEqual(DAYS.slice(0, 5));
    const order = w.log.slice(logAt);
    const committed = order.indexOf(`put ${ROLLUP_STATE_KEY}`);
    expect(order[0]).toMatch(/^query INSERT INTO/);
    expect(committed).toBeGreaterThan(0);
    const fingerprintDeleted = order.indexOf(`delete ${fingerprintKey('2026-03-01')}`);
    expect(fingerprintDeleted).toBeGreaterThan(committed);
    expect(order.findIndex((l) => l.startsWith('delete tiles/days/day=2026-03-01/'))).toBeGreaterThan(fingerprintDeleted);
    expect(w.dayFolders()).toEqual([ROLLUP_SLOTS[0], ...DAYS.slice(5)]);
    for (const day of DAYS.slice(0, 5)) expect(w.fingerprint(day)).toBeNull();
    // AND the tiles relation reads the slot as the rollup day, before every real day, with the days kept
    const tiles = w.store.relations(DAYS).tiles;
    expect(tiles).toContain(`CASE WHEN day = '${ROLLUP_SLOTS[0]}' THEN '${ROLLUP_DAY}' ELSE day END AS day`);
    expect(tiles).toContain(`WHERE day IN ('${ROLLUP_SLOTS[0]}', ${quoted(DAYS.slice(5))})`);
    expect(w.store.rolledUpBefore()).toBe('2026-03-06');
    // AND the fold and the relation are Trino SQL calling only functions Trino has
    for (const sql of [fold as string, `SELECT * FROM ${tiles}`]) expect(() => parseTrino(sql)).not.toThrow();
    const known = new Set([...TRINO_FUNCTIONS, 'bool_and', 'timestamp']);
    expect(calledFunctions(`${fold}\n${tiles}`).filter((f) => !known.has(f))).toEqual([]);
  });

  it('serves the folded days from the rollup while nothing changed, folds further days into the other slot, and rebuilds them all when an old day changes', async () => {
    const w = expiring();
    await w.store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-06') });
    await w.store.expire('2026-03-06');
    // WHEN the next invocation refreshes with nothing changed THEN the folded days are reused, nothing is built
    const second = w.newStore();
    const since = w.statements.length;
    const report = await second.refresh({ measures: [LOGIN], days: DAYS, runId: 'r2', expiry: expiry('2026-03-07') });
    expect(report).toMatchObject({ built: [], rebuilt: [], fresh: 10 });
    expect(w.tileInserts(since)).toEqual([]);
    // AND one more day expires into the other slot, which reads the old slot and the day; the old slot is deleted
    expect(await second.expire('2026-03-07')).toEqual(['2026-03-06']);
    expect(w.statements.at(-1)).toContain(`WHERE "day" IN ('${ROLLUP_SLOTS[0]}', '2026-03-06')`);
    expect(w.statements.at(-1)).toContain(`'${ROLLUP_SLOTS[1]}' AS day`);
    expect(w.dayFolders()).toEqual([ROLLUP_SLOTS[1], ...DAYS.slice(6)]);
    // WHEN a late file lands in a folded day THEN the rollup is dropped and every folded day is built again
    w.setFiles(daysFrom('2026-02-28', 12).map((dt) => eventFile(dt, dt === '2026-03-02' ? '"v2"' : '"v1"')));
    const third = w.newStore();
    const rebuilt = await third.refresh({ measures: [LOGIN], days: DAYS, runId: 'r3', expiry: expiry('2026-03-07') });
    expect(rebuilt.built).toEqual(DAYS.slice(0, 6));
    expect(rebuilt.fresh).toBe(4);
    expect(w.state()).toBeNull();
    expect(third.rolledUpBefore()).toBeUndefined();
    expect(w.dayFolders()).toEqual(DAYS);
    expect(third.relations(DAYS).tiles).not.toContain(ROLLUP_SLOTS[1]);
  });

  it('builds the folded days again in the same store after erasure dropped a rollup holding the person, not serving them from the deleted slot', async () => {
    const w = expiring();
    await w.store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-06') });
    await w.store.expire('2026-03-06');
    // WHEN erasure finds the person in the rollup's slot only (the store has its state loaded)
    w.setAnswer((sql) =>
      sql.startsWith('SELECT DISTINCT day FROM') ? [[ROLLUP_SLOTS[0]]] : sql.startsWith('SELECT count(*)') ? [['0']] : undefined,
    );
    await w.store.forget(['bob']);
    w.setAnswer(() => undefined);
    expect(w.state()).toBeNull();
    // THEN the next refresh of that very store builds the folded days again
    const report = await w.store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r2', expiry: expiry('2026-03-06') });
    expect(report.built).toEqual(DAYS.slice(0, 5));
    expect(w.store.rolledUpBefore()).toBeUndefined();
    expect(w.store.relations(DAYS).tiles).not.toContain(ROLLUP_SLOTS[0]);
  });

  it('folds nothing until a week of days expired (the rollup is rewritten once a week, not every refresh)', async () => {
    const w = expiring(7);
    await w.store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-07') });
    expect(await w.store.expire('2026-03-07')).toEqual([]);
    expect(w.state()).toBeNull();
    expect(await w.store.expire('2026-03-08')).toEqual(DAYS.slice(0, 7));
  });

  it('drops the rollup when a refresh reads a folded day on its own (an earlier as-of, a wider window) or carries no expiry', async () => {
    const w = expiring();
    await w.store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-06') });
    await w.store.expire('2026-03-06');
    const earlier = await w.newStore().refresh({ measures: [LOGIN], days: DAYS, runId: 'r2', expiry: expiry('2026-03-04') });
    expect(earlier.built).toEqual(DAYS.slice(0, 5));
    expect(w.state()).toBeNull();
    const again = w.newStore();
    await again.refresh({ measures: [LOGIN], days: DAYS, runId: 'r3', expiry: expiry('2026-03-04') });
    expect(await again.expire('2026-03-04')).toEqual(DAYS.slice(0, 3));
    expect((await w.newStore().refresh({ measures: [LOGIN], days: DAYS, runId: 'r4' })).built).toEqual(DAYS.slice(0, 3));
  });
});
