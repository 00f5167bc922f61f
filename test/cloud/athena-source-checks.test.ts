import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PARTS_COLUMNS } from '../../shared/checks/source-query.ts';
import { SOURCE_CHECK_COLUMNS } from '../../shared/checks/source-rows.ts';
import { AthenaEngine } from '../../shared/cloud/athena-engine.ts';
import { oneListing } from '../../shared/cloud/athena-listing.ts';
import { AthenaQueryRunner } from '../../shared/cloud/athena-query.ts';
import { athenaSourceChecks, PLAN_COMPUTE_BUDGET_MS } from '../../shared/cloud/athena-source-checks.ts';
import { S3BlobStore } from '../../shared/cloud/s3-blob-store.ts';
import { FUNCTION_TIMEOUT_SECONDS } from '../../shared/workflow/step-limits.ts';
import { StateName } from '../../shared/workflow/state-names.ts';
import { calledFunctions, parseTrino, TRINO_FUNCTIONS } from '../compiler/support.ts';
import { objectBody, serviceError } from './support.ts';

const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
mockClient(GlueClient);

/** Mid-day: today's partition is 2024-06-15, the window's first 2024-05-16. */
const AS_OF = new Date('2024-06-15T12:00:00.000Z');
const DAY = 86_400_000;
/** The functions the checks' SQL calls beyond the compiler's: Trino's own (the event digests, the checks' aggregates). */
const CHECK_FUNCTIONS = new Set([
  ...TRINO_FUNCTIONS,
  ...['abs', 'date_diff', 'floor', 'grouping', 'max', 'rollup', 'xxhash64', 'from_big_endian_64', 'to_utf8', 'concat', 'min'],
]);

/**
 * A world of fakes: the lake and snapshots buckets as a map of objects, Athena answering the
 * checks' queries by their shape for the partitions each names (`dt IN (...)`), and each query's
 * text in the order sent.
 */
function world(options: { readonly keepKeys?: boolean } = {}) {
  /** `size`: what the listing says of an object (default its body's length). */
  const objects = new Map<string, { body: string; etag: string; size?: number }>();
  const sent: string[] = [];
  /** Per partition: its events (event digests) and the latest ts of its rows. */
  const partitions = new Map<string, { keys: string[]; newestMs: number }>();
  const setFile = (dt: string, etag: string, keys: string[], newestMs = Date.parse(`${dt}T10:00:00Z`), size?: number) => {
    objects.set(`lake/events/dt=${dt}/part-0.jsonl`, { body: '{}', etag, ...(size === undefined ? {} : { size }) });
    partitions.set(dt, { keys, newestMs });
  };
  const named = (sql: string) =>
    [...(/dt IN \(([^)]*)\)/.exec(sql)?.[1]?.matchAll(/'(\d{4}-\d{2}-\d{2})'/g) ?? [])].map((m) => m[1] as string);
  const answer = (sql: string): string[][] => {
    if (sql.startsWith('WITH identity_keys AS') && !sql.includes('scanned AS')) {
      return [[...SOURCE_CHECK_COLUMNS], ['identity', 'web', '', ...SOURCE_CHECK_COLUMNS.slice(3, -2).map(() => ''), '7', '1']];
    }
    if (sql.includes('dt AS part')) {
      const counts = (n: number) =>
        SOURCE_CHECK_COLUMNS.slice(3, -3).map((c) => (c === 'row_count' || c === 'valid_rows' || c === 'events' ? String(n) : '0'));
      const none = (n: number) => Array.from({ length: n }, () => '');
      return [
        [...PARTS_COLUMNS],
        ...named(sql).flatMap((dt) => {
          const { keys, newestMs } = partitions.get(dt) ?? { keys: [], newestMs: 0 };
          const day = String(Math.floor(Date.parse(dt) / DAY));
          const rest = [String(newestMs), '', '', '', '', ''];
          return [
            ['rows', dt, 'day', 'web', day, ...counts(keys.length), ...rest],
            ['rows', dt, 'source', 'web', '', ...counts(keys.length), ...rest],
            ['rows', dt, 'lake', '', '', ...counts(keys.length), ...rest],
            ['span', dt, ...none(SOURCE_CHECK_COLUMNS.length), String(newestMs), String(Date.parse(dt)), ''],
            ...keys.map((key) => ['key', dt, ...none(SOURCE_CHECK_COLUMNS.length + 2), key]),
          ];
        }),
      ];
    }
    // The whole window at once: its lake row only, in these fakes.
    if (sql.startsWith('-- cohort-refresh: source checks')) {
      const all = [...partitions.values()].reduce((sum, p) => sum + p.keys.length, 0);
      return [[...SOURCE_CHECK_COLUMNS], ['lake', '', '', ...SOURCE_CHECK_COLUMNS.slice(3, -3).map(() => String(all)), '', '', '']];
    }
    throw new Error(`unexpected query: ${sql.slice(0, 200)}`);
  };
  athena.reset();
  s3.reset();
  athena.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    sent.push(input.QueryString);
    const id = `q-${sent.length}`;
    // The parts' statement: its CSV result (NULL an empty unquoted value), which the checks read in one GET.
    if (input.QueryString.includes('dt AS part')) {
      const csv = answer(input.QueryString).map((row, i) => row.map((v) => (v === '' && i > 0 ? '' : `"${v}"`)).join(','));
      objects.set(`results/${id}.csv`, { body: [...csv, ''].join('\n'), etag: '"r"' });
    }
    return { QueryExecutionId: id };
  });
  athena.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => ({
    QueryExecution: {
      QueryExecutionId: input.QueryExecutionId,
      Status: { State: 'SUCCEEDED' },
      StatementType: 'DML',
      SubstatementType: 'SELECT',
      Statistics: { DataScannedInBytes: 100 },
      ResultConfiguration: { OutputLocation: `s3://results-bucket/results/${input.QueryExecutionId}.csv` },
    } as QueryExecution,
  }));
  athena.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => {
    const sql = sent[Number(input.QueryExecutionId.slice(2)) - 1] ?? '';
    const rows = answer(sql);
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: (rows[0] ?? []).map((Name) => ({ Name, Type: 'varchar' })) },
        Rows: rows.map((row) => ({ Data: row.map((v) => (v === '' ? {} : { VarCharValue: v })) })),
      },
    };
  });
  s3.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: [...objects.entries()]
      .filter(([key]) => key.startsWith(input.Prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([Key, o]) => ({ Key, ETag: o.etag, Size: o.size ?? o.body.length })),
  }));
  s3.on(GetObjectCommand).callsFake((input: { Key: string; Range?: string }) => {
    const found = objects.get(input.Key);
    if (found === undefined) throw serviceError({ name: 'NoSuchKey', status: 404 });
    const range = /^bytes=(\d+)-(\d+)$/.exec(input.Range ?? '');
    const body = range ? found.body.slice(Number(range[1]), Number(range[2]) + 1) : found.body;
    return { Body: objectBody(body), ETag: found.etag };
  });
  s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string | Uint8Array }) => {
    const body = typeof input.Body === 'string' ? input.Body : Buffer.from(input.Body).toString('utf8');
    objects.set(input.Key, { body, etag: `"${objects.size}"` });
    return { ETag: `"${objects.size}"` };
  });
  s3.on(DeleteObjectsCommand).callsFake((input: { Delete: { Objects: { Key: string }[] } }) => {
    for (const { Key } of input.Delete.Objects) objects.delete(Key);
    return {};
  });
  objects.set('lake/identities/map.jsonl', { body: '{}', etag: '"map-1"' });

  const client = { s3: new S3Client({ region: 'eu-central-1' }), athena: new AthenaClient({ region: 'eu-central-1' }) };
  const runner = new AthenaQueryRunner(client.athena, { workGroup: 'cohort-refresh', database: 'cohort_refresh', sleep: async () => {} });
  const engine = new AthenaEngine({
    runner,
    s3: client.s3,
    glue: new GlueClient({ region: 'eu-central-1' }),
    database: 'cohort_refresh',
    lakeBucket: 'lake-bucket',
    lakePrefix: 'lake/',
    resultsBucket: 'results-bucket',
  });
  /** One tick: a fresh listing, as Plan builds per invocation. */
  const tick = async (asOf = AS_OF, maxWindowBytes?: number) => {
    const listing = oneListing(engine);
    const checks = athenaSourceChecks({
      engine: listing.engine,
      resultBatches: (sql) => engine.resultBatches(sql),
      lake: listing.lake,
      s3: client.s3,
      snapshots: new S3BlobStore(client.s3, { bucket: 'snapshots-bucket' }),
      bucket: 'snapshots-bucket',
      ...(maxWindowBytes === undefined ? {} : { maxWindowBytes }),
      ...(options.keepKeys
        ? { identityKeys: { unload: (sql: string, folder: string) => runner.unloadToParquet(sql, folder), database: 'cohort_refresh' } }
        : {}),
    });
    const before = sent.length;
    const rows = await checks.rows(asOf);
    return { rows, queries: sent.slice(before) };
  };
  return { objects, sent, setFile, tick, named };
}

const lakeRow = (rows: readonly { grain: string; row_count: number }[]) => rows.find((r) => r.grain === 'lake')?.row_count;
/** The checks' query over partitions (not the digests' nor the newest ts's). */
const partsQuery = (queries: readonly string[]) => queries.filter((q) => q.includes('dt AS part'));

describe("the cloud's source checks keep each partition's part in the snapshots bucket", () => {
  beforeEach(() => {
    athena.reset();
    s3.reset();
  });

  it('compute every partition of the window in one query the first time, then only what changed', async () => {
    const w = world();
    w.setFile('2024-06-13', '"a1"', ['1', '2']);
    w.setFile('2024-06-14', '"b1"', ['3', '4', '5']);
    w.setFile('2024-06-15', '"c1"', ['6']);
    w.setFile('2024-04-01', '"old"', ['9']);

    const first = await w.tick();

    // One query by parts names the window's three partitions (not April's) as literals Athena prunes by.
    expect(partsQuery(first.queries)).toHaveLength(1);
    expect(w.named(partsQuery(first.queries)[0] as string)).toEqual(['2024-06-13', '2024-06-14', '2024-06-15']);
    expect(lakeRow(first.rows)).toBe(6);
    expect(first.rows.find((r) => r.grain === 'identity')).toMatchObject({ source: 'web', identity_keys: 7, identity_conflicts: 1 });
    // Per partition a record of its counts and its digests' object (text, named by its checksum), holding digests and counts only.
    const parts = [...w.objects.keys()].filter((k) => k.startsWith('checks/parts/dt=')).sort();
    expect(parts.filter((k) => k.endsWith('.json'))).toEqual([
      'checks/parts/dt=2024-06-13.json',
      'checks/parts/dt=2024-06-14.json',
      'checks/parts/dt=2024-06-15.json',
    ]);
    expect(parts.filter((k) => k.endsWith('.digests'))).toHaveLength(3);
    // And its digests' filter (digest-filter.ts), named as they are.
    expect(parts.filter((k) => k.endsWith('.filter')).map((k) => k.replace(/filter$/, 'digests'))).toEqual(
      parts.filter((k) => k.endsWith('.digests')),
    );
    const record = JSON.parse(w.objects.get('checks/parts/dt=2024-06-13.json')?.body ?? '{}');
    expect(Object.keys(record)).toEqual(['fingerprint', 'newest_ms', 'oldest_ms', 'rows', 'digests']);
    expect(record.digests).toMatchObject({ count: 2, bits: 0 });
    expect(w.objects.get(record.digests.key)?.body).toMatch(/^[A-Za-z0-9+/]{32}$/);
    // Two statements (Athena bills at least 10 MB each): the parts' one (rows, ts spans and event
    // digests) and the identity map's counts, which later ticks read from their kept object.
    expect(first.queries).toHaveLength(2);
    // The parts' CSV result is read in one GET, not paged through GetQueryResults; its digests join no identity key.
    const statement = partsQuery(first.queries)[0] as string;
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => sentOf(w.sent, c.args[0].input.QueryExecutionId))).not.toContain(
      statement,
    );
    const digests = statement.slice(statement.indexOf('digest_flagged AS ('), statement.indexOf('digest_classified AS ('));
    expect(digests).toContain('FROM scanned AS e\n');
    expect(digests).not.toContain('identity_keys');
    // Every part computed: its digests are not held once written but compared read back by ranged
    // GETs, a slice of the hash range at a time (here one slice, each object one group of 32 characters).
    const digestGetsOf = () =>
      s3
        .commandCalls(GetObjectCommand)
        .map((c) => c.args[0].input)
        .filter((i) => i.Key?.endsWith('.digests'));
    const firstGets = digestGetsOf();
    expect(firstGets.map((i) => i.Range)).toEqual(['bytes=0-31', 'bytes=0-31', 'bytes=0-31']);
    expect(new Set(firstGets.map((i) => i.Key)).size).toBe(3);

    // A later tick of the same day, nothing changed: nothing to compute, no query at all.
    const second = await w.tick(new Date('2024-06-15T12:05:00.000Z'));
    expect(second.queries).toEqual([]);
    expect(second.rows).toEqual(first.rows);

    // A file of 06-13 rewritten (new ETag): that partition alone is read again, in one statement.
    w.setFile('2024-06-13', '"a2"', ['1', '2', '7']);
    const third = await w.tick(new Date('2024-06-15T12:10:00.000Z'));
    expect(third.queries).toHaveLength(1);
    expect(partsQuery(third.queries).map(w.named)).toEqual([['2024-06-13']]);
    expect(lakeRow(third.rows)).toBe(7);
    // Its one new digest is looked up in the other parts' filters, read whole, which rule it out: their
    // digests are not read (a "maybe" would read the bucket it falls in by a ranged GET). The kept
    // digests of 06-13 it replaced are read whole, then deleted with their filter and the record replaced.
    const digestGets = digestGetsOf().slice(firstGets.length);
    expect(digestGets.filter((i) => !i.Key?.includes('2024-06-13'))).toEqual([]);
    const filterGets = s3
      .commandCalls(GetObjectCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.Key?.endsWith('.filter'));
    expect(filterGets.map((i) => [i.Key?.slice(0, 'checks/parts/dt=2024-06-14'.length), i.Range])).toEqual([
      ['checks/parts/dt=2024-06-14', undefined],
      ['checks/parts/dt=2024-06-15', undefined],
    ]);
    expect(digestGets.filter((i) => i.Key === record.digests.key).map((i) => i.Range)).toEqual([undefined]);
    expect(w.objects.has(record.digests.key)).toBe(false);
    expect(w.objects.has(record.digests.filter.key)).toBe(false);
  });

  it("read today's partition again while it holds a row at or after the as-of", async () => {
    const w = world();
    w.setFile('2024-06-14', '"b1"', ['3']);
    w.setFile('2024-06-15', '"c1"', ['6'], Date.parse('2024-06-15T12:30:00Z'));
    await w.tick();

    const next = await w.tick(new Date('2024-06-15T12:05:00.000Z'));

    expect(partsQuery(next.queries).map(w.named)).toEqual([['2024-06-15']]);
  });

  it('read the window at once when two partitions share an event, and drop the parts the window moved past', async () => {
    const w = world();
    w.setFile('2024-06-14', '"b1"', ['3', '4']);
    w.setFile('2024-06-15', '"c1"', ['4']);
    w.objects.set('checks/parts/dt=2024-04-01.json', { body: '{}', etag: '"x"' });

    const { queries } = await w.tick();

    // The query by parts, then the whole window's (which these fakes do not answer by parts).
    expect(partsQuery(queries)).toHaveLength(1);
    expect(queries.at(-1)).toContain("dt >= '2024-05-16' AND dt <= '2024-06-16'");
    expect(w.objects.has('checks/parts/dt=2024-04-01.json')).toBe(true);
  }, 10_000);

  it('read the window at once, keeping nothing, when its files pass the size limit', async () => {
    const w = world();
    w.setFile('2024-06-14', '"b1"', ['3', '4']);
    w.setFile('2024-06-15', '"c1"', ['6']);

    // Two files of 2 bytes each: at a limit of 4 bytes the parts are kept, at 3 the window is read whole.
    const over = await w.tick(AS_OF, 3);
    expect(partsQuery(over.queries)).toEqual([]);
    expect(over.queries).toHaveLength(1);
    expect(over.queries[0]).toContain("dt >= '2024-05-16' AND dt <= '2024-06-16'");
    expect(lakeRow(over.rows)).toBe(3);
    expect([...w.objects.keys()].filter((k) => k.startsWith('checks/parts/'))).toEqual([]);

    const within = await w.tick(AS_OF, 4);
    expect(partsQuery(within.queries)).toHaveLength(1);
    expect(lakeRow(within.rows)).toBe(3);
  });

  it('keep parts up to 3 GiB of files in the window by default, and read a larger window at once', async () => {
    const MiB = 1024 * 1024;
    const w = world();
    w.setFile('2024-06-14', '"b1"', ['3', '4'], undefined, 1500 * MiB);
    w.setFile('2024-06-15', '"c1"', ['6'], undefined, 1500 * MiB);
    const within = await w.tick();
    expect(partsQuery(within.queries).length).toBeGreaterThan(0);
    expect(lakeRow(within.rows)).toBe(3);

    w.setFile('2024-06-15', '"c2"', ['6'], undefined, 1573 * MiB);
    const over = await w.tick();
    expect(partsQuery(over.queries)).toEqual([]);
    expect(lakeRow(over.rows)).toBe(3);
  });

  it("stop computing parts within a third of Plan's Lambda timeout, leaving the rest of it to Plan and the window read at once", () => {
    expect(PLAN_COMPUTE_BUDGET_MS).toBeGreaterThan(0);
    expect(PLAN_COMPUTE_BUDGET_MS * 3).toBeLessThanOrEqual(FUNCTION_TIMEOUT_SECONDS[StateName.Plan] * 1000);
  });

  it("on a day's first tick read again the parts whose rows lie inside both windows, computing only the window's edge", async () => {
    const w = world();
    // 2024-05-17 is the window's first day at AS_OF and the slack day before it a day later.
    w.setFile('2024-05-17', '"e1"', ['1']);
    w.setFile('2024-06-14', '"b1"', ['3', '4']);
    w.setFile('2024-06-15', '"c1"', ['6']);
    await w.tick();

    const next = await w.tick(new Date('2024-06-16T00:05:00.000Z'));

    expect(partsQuery(next.queries).map(w.named)).toEqual([['2024-05-17']]);
    expect(lakeRow(next.rows)).toBe(4);
  });

  it("join the identity map's keys kept in the bucket, unloaded once, instead of reading the map on every tick", async () => {
    const w = world({ keepKeys: true });
    w.setFile('2024-06-14', '"b1"', ['3']);
    w.setFile('2024-06-15', '"c1"', ['6']);

    const first = await w.tick();

    // The keys unloaded once, the parts' statement joins them (not the map), the identity rows counted once.
    const unloads = first.queries.filter((q) => q.startsWith('UNLOAD'));
    expect(unloads).toHaveLength(1);
    expect(unloads[0]).toMatch(/TO 's3:\/\/snapshots-bucket\/checks\/identity-keys\/version=[0-9a-f]{16}-\d{13}-[0-9a-f]{8}\/'/);
    const parts = partsQuery(first.queries)[0] as string;
    expect(parts).toMatch(/FROM "cohort_refresh"\."identity_keys" WHERE version = '[0-9a-f]{16}-\d{13}-[0-9a-f]{8}'/);
    expect(parts).not.toContain('identities_');
    expect(first.rows.find((r) => r.grain === 'identity')).toMatchObject({ source: 'web', identity_keys: 7 });
    expect(w.objects.has('checks/identity-keys/state.json')).toBe(true);

    // Today's file changed: one statement, over today's partition and the kept keys; no UNLOAD.
    w.setFile('2024-06-15', '"c2"', ['6', '8']);
    const next = await w.tick(new Date('2024-06-15T12:05:00.000Z'));
    expect(next.queries).toHaveLength(1);
    expect(next.queries[0]).toContain('"identity_keys" WHERE version');
    expect(next.queries[0]).not.toContain('identities_');

    // The map changed: the keys are unloaded again and every part computed again against them.
    w.objects.set('lake/identities/map.jsonl', { body: '{}', etag: '"map-2"' });
    const changed = await w.tick(new Date('2024-06-15T12:10:00.000Z'));
    expect(changed.queries.filter((q) => q.startsWith('UNLOAD'))).toHaveLength(1);
    expect(partsQuery(changed.queries).map(w.named)).toEqual([['2024-06-14', '2024-06-15']]);
  });

  it('sends queries that parse with the Trino grammar and call only Trino functions', async () => {
    const w = world();
    w.setFile('2024-06-14', '"b1"', ['3']);
    w.setFile('2024-06-15', '"c1"', ['6']);
    await w.tick();
    w.objects.set('checks/parts/dt=2024-04-01.json', { body: '{}', etag: '"x"' });
    w.setFile('2024-06-15', '"c2"', ['6', '8']);
    await w.tick(new Date('2024-06-15T12:05:00.000Z'));

    expect(w.objects.has('checks/parts/dt=2024-04-01.json')).toBe(false);
    for (const sql of w.sent) {
      expect(() => parseTrino(sql)).not.toThrow();
      expect(calledFunctions(sql).filter((name) => !CHECK_FUNCTIONS.has(name))).toEqual([]);
    }
  });
});

/** The SQL of a query id of the fakes. */
const sentOf = (sent: readonly string[], id: string | undefined) => sent[Number(id?.slice(2)) - 1];
