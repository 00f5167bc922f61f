import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import type { ListedLake } from '../../shared/cloud/athena-engine.ts';
import { AthenaQueryRunner } from '../../shared/cloud/athena-query.ts';
import { ROLLUP_SLOTS, ROLLUP_STATE_KEY } from '../../shared/cloud/athena-tile-rollup.ts';
import { AthenaTileStore, fingerprintKey } from '../../shared/cloud/athena-tile-store.ts';
import type { LakeObject } from '../../shared/cloud/lake-objects.ts';
import { ROLLUP_DAY, type TileExpiry } from '../../shared/tiles/expiry.ts';
import { rollupSql } from '../../shared/tiles/expiry-sql.ts';
import { tileMeasure } from '../../shared/tiles/measures.ts';
import { objectBody, serviceError } from './support.ts';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
const runner = new AthenaQueryRunner(new AthenaClient({ region: 'eu-central-1' }), {
  workGroup: 'cohort-refresh',
  database: 'cohort_refresh',
  sleep: async () => {},
});

const LOGIN = tileMeasure({ events: ['login'], where: [] }, { kind: 'count' });
const DAY = 86_400_000;
const daysFrom = (first: string, n: number) =>
  Array.from({ length: n }, (_, i) => new Date(Date.parse(`${first}T00:00:00Z`) + i * DAY).toISOString().slice(0, 10));
const eventFile = (dt: string, etag = '"v1"'): LakeObject => ({
  table: 'events',
  format: 'parquet',
  key: `lake/events/dt=${dt}/part-0.parquet`,
  dt,
  etag,
  size: 1_000,
  tsUnit: 'micros',
});
const TILES = '"cohort_refresh"."tiles"';

/** The snapshots bucket as a map, Athena writing the partitions an INSERT names, and a log of both in order. */
function world() {
  const objects = new Map<string, string>();
  const log: string[] = [];
  const statements: string[] = [];
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    const sql = input.QueryString;
    statements.push(sql);
    log.push(`query ${sql.split('\n')[0]}`);
    const built = /WHERE day IN \(([^)]*)\)$/.exec(sql)?.[1]?.match(/\d{4}-\d{2}-\d{2}/g) ?? [];
    const folded = /'(\d{4}-\d{2}-\d{2})' AS day FROM \(/.exec(sql)?.[1];
    for (const day of [...built, ...(folded ? [folded] : [])]) objects.set(`tiles/days/day=${day}/q${statements.length}`, 'parquet');
    return { QueryExecutionId: `q-${statements.length}` };
  });
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => ({
    QueryExecution: {
      QueryExecutionId: input.QueryExecutionId,
      Status: { State: 'SUCCEEDED' },
      StatementType: 'DML',
      Statistics: { DataScannedInBytes: 10 },
    } as QueryExecution,
  }));
  athena.on(GetQueryResultsCommand).callsFake(() => ({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: [{ Name: 'event_id' }, { Name: 'day' }] },
      Rows: [{ Data: [{ VarCharValue: 'event_id' }, { VarCharValue: 'day' }] }],
    },
  }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = objects.get(input.Key);
    if (body === undefined) throw serviceError({ name: 'NoSuchKey', status: 404 });
    return { Body: objectBody(body) };
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    objects.set(input.Key, String(input.Body));
    log.push(`put ${input.Key}`);
    return { ETag: '"e"' };
  });
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: [...objects.entries()].filter(([k]) => k.startsWith(input.Prefix)).map(([Key, body]) => ({ Key, Size: body.length })),
  }));
  s3.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: { Key: string }[] } }) => {
    log.push(`delete ${input.Delete.Objects.map((o) => o.Key).join(' ')}`);
    for (const { Key } of input.Delete.Objects) objects.delete(Key);
    return {};
  });
  let files: LakeObject[] = [];
  const lake = async (): Promise<ListedLake> => ({
    view: {
      relations: { events: '(SELECT * FROM "cohort_refresh"."lake_events_of_listing")', identities: '(SELECT 1)' },
      inputs: () => [],
    },
    events: files,
  });
  /** A new store per invocation, as the Tiles function builds it. */
  const store = (foldBatchDays = 1) =>
    new AthenaTileStore({
      foldBatchDays,
      runner,
      s3: new S3Client({ region: 'eu-central-1' }),
      database: 'cohort_refresh',
      bucket: 'snapshots-bucket',
      lake,
    });
  const dayFolders = () =>
    [...new Set([...objects.keys()].filter((k) => k.startsWith('tiles/days/')).map((k) => k.split('/')[2]?.slice(4)))].sort();
  const state = () =>
    JSON.parse(objects.get(ROLLUP_STATE_KEY) ?? 'null') as { slot: string; until: string; fingerprints: { day: string }[] } | null;
  return { objects, log, statements, store, dayFolders, state, setFiles: (next: LakeObject[]) => (files = next) };
}

const DAYS = daysFrom('2026-03-01', 10);
const expiry = (keepFrom: string): TileExpiry => ({ keepFrom, rollupMeasures: [LOGIN.id] });

describe('expiry in the Athena tile store', () => {
  beforeEach(() => {
    athena.reset();
    s3.reset();
  });

  it('folds the days before the first day kept into a rollup slot with one INSERT, commits it, then deletes their fingerprints and files', async () => {
    // GIVEN ten days built
    const w = world();
    w.setFiles(daysFrom('2026-02-28', 12).map((dt) => eventFile(dt)));
    const store = w.store();
    expect((await store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-06') })).built).toEqual(DAYS);
    // WHEN the days before 2026-03-06 expire
    const since = w.statements.length;
    const logAt = w.log.length;
    expect(await store.expire('2026-03-06')).toEqual(DAYS.slice(0, 5));
    // THEN one INSERT folds them into the first slot, read back from the tiles table
    const [fold, ...more] = w.statements.slice(since);
    expect(more).toEqual([]);
    const rows = `(SELECT "measure", "source", "user_key", "n", "total", "abs_total", "integral", "value", CAST("latest_ts" AS timestamp(6) with time zone) AS "latest_ts", "latest_event_id", "latest_json" FROM ${TILES} WHERE day IN (${DAYS.slice(
      0,
      5,
    )
      .map((d) => `'${d}'`)
      .join(', ')}))`;
    expect(fold).toContain(`INSERT INTO ${TILES} (`);
    expect(fold).toContain(`SELECT folded.*, '${ROLLUP_SLOTS[0]}' AS day FROM (${rollupSql(athenaDialect, rows)}) AS folded`);
    // AND the state names the slot, its end and the folded days' fingerprints, written after the INSERT and before any delete
    expect(w.state()).toMatchObject({ slot: ROLLUP_SLOTS[0], until: '2026-03-06' });
    expect(w.state()?.fingerprints.map((f) => f.day)).toEqual(DAYS.slice(0, 5));
    const order = w.log.slice(logAt);
    expect(order[0]).toMatch(/^query INSERT INTO/);
    expect(order.indexOf(`put ${ROLLUP_STATE_KEY}`)).toBeGreaterThan(0);
    const fingerprintsDeleted = order.findIndex((l) => l.startsWith('delete') && l.includes(fingerprintKey('2026-03-01')));
    const filesDeleted = order.findIndex((l) => l.startsWith('delete tiles/days/day=2026-03-01/'));
    expect(fingerprintsDeleted).toBeGreaterThan(order.indexOf(`put ${ROLLUP_STATE_KEY}`));
    expect(filesDeleted).toBeGreaterThan(fingerprintsDeleted);
    expect(w.dayFolders()).toEqual([ROLLUP_SLOTS[0], ...DAYS.slice(5)]);
    for (const day of DAYS.slice(0, 5)) expect(w.objects.has(fingerprintKey(day))).toBe(false);
    // AND the tiles relation reads the slot as the rollup day, before every real day, with the days kept
    const tiles = store.relations(DAYS).tiles;
    expect(tiles).toContain(`CASE WHEN day = '${ROLLUP_SLOTS[0]}' THEN '${ROLLUP_DAY}' ELSE day END AS day`);
    expect(tiles).toContain(
      `WHERE day IN ('${ROLLUP_SLOTS[0]}', ${DAYS.slice(5)
        .map((d) => `'${d}'`)
        .join(', ')})`,
    );
    expect(store.rolledUpBefore()).toBe('2026-03-06');
  });

  it('serves the folded days from the rollup while nothing changed, folds further days into the other slot, and rebuilds them all when an old day changes', async () => {
    const w = world();
    w.setFiles(daysFrom('2026-02-28', 12).map((dt) => eventFile(dt)));
    const first = w.store();
    await first.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-06') });
    await first.expire('2026-03-06');
    // WHEN the next invocation refreshes with nothing changed THEN the folded days are reused, nothing is built
    const second = w.store();
    const since = w.statements.length;
    expect(await second.refresh({ measures: [LOGIN], days: DAYS, runId: 'r2', expiry: expiry('2026-03-07') })).toMatchObject({
      built: [],
      rebuilt: [],
      fresh: 10,
    });
    expect(w.statements.slice(since).filter((s) => s.startsWith(`INSERT INTO ${TILES}`))).toEqual([]);
    // AND one more day expires into the other slot, which reads the old slot and the day; the old slot is deleted
    expect(await second.expire('2026-03-07')).toEqual(['2026-03-06']);
    expect(w.statements.at(-1)).toContain(`WHERE day IN ('${ROLLUP_SLOTS[0]}', '2026-03-06')`);
    expect(w.statements.at(-1)).toContain(`'${ROLLUP_SLOTS[1]}' AS day`);
    expect(w.dayFolders()).toEqual([ROLLUP_SLOTS[1], ...DAYS.slice(6)]);
    // WHEN a late file lands in a folded day THEN the rollup is dropped and every folded day is built again
    w.setFiles(daysFrom('2026-02-28', 12).map((dt) => eventFile(dt, dt === '2026-03-02' ? '"v2"' : '"v1"')));
    const third = w.store();
    const report = await third.refresh({ measures: [LOGIN], days: DAYS, runId: 'r3', expiry: expiry('2026-03-07') });
    expect(report.built).toEqual(DAYS.slice(0, 6));
    expect(report.fresh).toBe(4);
    expect(w.state()).toBeNull();
    expect(third.rolledUpBefore()).toBeUndefined();
    expect(w.dayFolders()).toEqual(DAYS);
    expect(third.relations(DAYS).tiles).not.toContain(ROLLUP_SLOTS[1]);
  });

  it('folds nothing until a week of days expired (the rollup is rewritten once a week, not every refresh)', async () => {
    const w = world();
    w.setFiles(daysFrom('2026-02-28', 12).map((dt) => eventFile(dt)));
    const store = w.store(7);
    await store.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-07') });
    expect(await store.expire('2026-03-07')).toEqual([]);
    expect(w.state()).toBeNull();
    expect(await store.expire('2026-03-08')).toEqual(DAYS.slice(0, 7));
  });

  it('drops the rollup when a refresh reads a folded day on its own (an earlier as-of, a wider window) or carries no expiry', async () => {
    const w = world();
    w.setFiles(daysFrom('2026-02-28', 12).map((dt) => eventFile(dt)));
    const first = w.store();
    await first.refresh({ measures: [LOGIN], days: DAYS, runId: 'r1', expiry: expiry('2026-03-06') });
    await first.expire('2026-03-06');
    const report = await w.store().refresh({ measures: [LOGIN], days: DAYS, runId: 'r2', expiry: expiry('2026-03-04') });
    expect(report.built).toEqual(DAYS.slice(0, 5));
    expect(w.state()).toBeNull();
    const again = w.store();
    await again.refresh({ measures: [LOGIN], days: DAYS, runId: 'r3', expiry: expiry('2026-03-04') });
    expect(await again.expire('2026-03-04')).toEqual(DAYS.slice(0, 3));
    expect((await w.store().refresh({ measures: [LOGIN], days: DAYS, runId: 'r4' })).built).toEqual(DAYS.slice(0, 3));
  });
});
