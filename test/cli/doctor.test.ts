import 'aws-sdk-client-mock-vitest/extend';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CopyObjectCommand, DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROBE_TABLE_ROWS, writeProbeLake } from '../../shared/cli/doctor-lake.ts';
import { PROBE_AS_OF, probeDefinitionFiles } from '../../shared/cli/doctor-probe.ts';
import { compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { cohorts } from '../support/cli.ts';
import { FakeAws, type FakeQuery } from '../workflow/fake-aws.ts';

const RESULTS = 'cohorts-results';
const ENVIRONMENT = {
  DEFINITIONS_BUCKET: 'cohorts-definitions',
  SNAPSHOTS_BUCKET: 'cohorts-snapshots',
  EVENT_LAKE_BUCKET: 'cohorts-lake',
  ATHENA_RESULTS_BUCKET: RESULTS,
  ATHENA_WORKGROUP: 'cohort-refresh',
  GLUE_DATABASE: 'cohort_refresh',
  AWS_REGION: 'eu-central-1',
};

const aws = new FakeAws();

/** Each probe cohort's members as the local engine computes them on the probe lake (what a healthy Athena gives). */
let local: Map<string, string[]>;

beforeAll(async () => {
  for (const [key, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(key, value);
  const dir = await mkdtemp(join(tmpdir(), 'doctor-test-'));
  const connection = await openDuckDb({ threads: 1 });
  await writeProbeLake(connection, dir);
  const engine = new DuckDbEngine(connection, dir);
  const compiled = compileRefresh({
    cohorts: buildCatalog(probeDefinitionFiles()).definitions,
    asOf: PROBE_AS_OF,
    lake: (await engine.lake()).relations,
    dialect: engine.dialect,
  });
  const result = await engine.evaluate(compiled.sql, 'test');
  local = new Map();
  for (const [cohort, column] of compiled.columns) local.set(cohort, await engine.members(result, column));
  connection.closeSync();
  await rm(dir, { recursive: true, force: true });
});
afterAll(() => {
  vi.unstubAllEnvs();
});

/** An Athena that reads the probe lake as the local engine does, with `change` applied to the members it returns. */
function athena(change: (members: Map<string, string[]>) => void = () => {}) {
  return (query: FakeQuery): void => {
    query.outputLocation = `s3://${RESULTS}/results/${query.id}.csv`;
    const table = /FROM "cohort_refresh"\."([a-z_]+)" WHERE listing = '[0-9a-f]+'/.exec(query.sql)?.[1] as
      | keyof typeof PROBE_TABLE_ROWS
      | undefined;
    if (query.sql.startsWith('SELECT * FROM') && table) {
      query.rows = [['line', 'listing'], ...Array.from({ length: PROBE_TABLE_ROWS[table] }, (_, i) => [`row ${i}`, 'x'])];
      return;
    }
    const members = new Map([...local].map(([cohort, ids]) => [cohort, [...ids]]));
    change(members);
    const people = [...new Set([...members.values()].flat())].sort();
    const columns = [...members.keys()];
    query.rows = [
      ['person_id', ...columns.map((c) => `c_${c}`)],
      ...people.map((p) => [p, ...columns.map((c) => String(members.get(c)?.includes(p)))]),
    ];
  };
}

const written = () => [
  ...aws.s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key as string),
  ...aws.s3.commandCalls(CopyObjectCommand).map((call) => call.args[0].input.Key as string),
];

describe('cohorts doctor --cloud', () => {
  beforeEach(() => {
    aws.reset();
  });

  it('on a healthy deployment: writes the probe lake and its manifests, runs 5 queries in the workgroup, prints ok lines and cleans up', async () => {
    aws.answer = athena();

    const doctor = await cohorts('doctor', '--cloud');

    expect(doctor.stderr.join('\n')).not.toMatch(/error/i);
    expect(doctor.code).toBe(0);
    const text = doctor.stdout.join('\n');
    for (const check of [
      'table events_jsonl: 10 rows read',
      'table events_parquet: 4 rows read',
      'table identities_jsonl: 1 row read',
      'table identities_parquet: 1 row read',
    ]) {
      expect(text).toContain(`ok     ${check}`);
    }
    for (const check of [
      'number text: 4 cohorts as expected',
      'jsonl.gz files: gz_opened as expected',
      'hidden file names',
      'history before 2015',
      'identity map',
      'Parquet events',
      'Parquet microseconds',
    ]) {
      expect(text).toMatch(new RegExp(`^ok {5}${check}`, 'm'));
    }
    expect(text).not.toContain('BROKEN');
    // Five queries in the deployment's workgroup and database: one per lake table over the probe's listing, one for the probe cohorts.
    expect(aws.athena).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 5);
    expect(aws.athena).toHaveReceivedCommandWith(StartQueryExecutionCommand, {
      WorkGroup: 'cohort-refresh',
      QueryExecutionContext: { Database: 'cohort_refresh', Catalog: 'AwsDataCatalog' },
    });
    const sql = [...aws.queries.values()].map((q) => q.sql);
    const listing = /listing = '([0-9a-f]{32})'/.exec(sql[0] as string)?.[1] as string;
    expect(sql.filter((s) => s.startsWith('SELECT * FROM'))).toEqual([
      `SELECT * FROM "cohort_refresh"."events_jsonl" WHERE listing = '${listing}' AND dt BETWEEN '2014-12-31' AND '2024-05-03' LIMIT 100`,
      `SELECT * FROM "cohort_refresh"."events_parquet" WHERE listing = '${listing}' AND dt BETWEEN '2024-05-31' AND '2024-05-31' LIMIT 100`,
      `SELECT * FROM "cohort_refresh"."identities_jsonl" WHERE listing = '${listing}' LIMIT 100`,
      `SELECT * FROM "cohort_refresh"."identities_parquet" WHERE listing = '${listing}' LIMIT 100`,
    ]);
    const probe = sql.find((s) => s.startsWith('--')) as string;
    expect(probe).toContain('-- cohort-refresh: 10 cohorts as of 2024-06-01T00:00:00.000Z');
    expect(probe).toContain(`FROM "cohort_refresh"."events_jsonl" WHERE (line IS NULL OR `);
    expect(probe).toContain(`AND (listing = '${listing}' AND dt BETWEEN '2014-12-31' AND '2024-05-03')`);
    // The probe lake under doctor/<run>/lake/ of the results bucket, its manifests (and the copy of _x.jsonl) under lake-files/<listing>/.
    const keys = written();
    const run = /^doctor\/([^/]+)\/lake\//.exec(keys[0] as string)?.[1] as string;
    expect(keys.filter((k) => k.startsWith('doctor/')).sort()).toEqual(
      [
        'events/dt=2014-12-31/events.jsonl',
        'events/dt=2024-05-01/events.jsonl',
        'events/dt=2024-05-02/events.jsonl.gz',
        'events/dt=2024-05-03/_x.jsonl',
        'events/dt=2024-05-31/events.parquet',
        'identities/map.jsonl',
        'identities/map.parquet',
      ].map((k) => `doctor/${run}/lake/${k}`),
    );
    expect(keys.filter((k) => !k.startsWith('doctor/')).every((k) => k.startsWith(`lake-files/${listing}/`))).toBe(true);
    const manifest = aws.s3
      .commandCalls(PutObjectCommand)
      .find((call) => call.args[0].input.Key === `lake-files/${listing}/events-jsonl/dt=2024-05-03/files.txt`);
    expect(String(manifest?.args[0].input.Body)).toMatch(
      new RegExp(`^s3://${RESULTS}/lake-files/${listing}/copies/[0-9a-f]{32}\\.jsonl\\n$`),
    );
    // Everything written and every query's result file is deleted.
    expect(aws.s3).toHaveReceivedCommand(DeleteObjectsCommand);
    expect(aws.keys(RESULTS)).toEqual([]);
    const deleted = aws.s3
      .commandCalls(DeleteObjectsCommand)
      .flatMap((call) => (call.args[0].input.Delete?.Objects ?? []).map((o) => o.Key));
    expect(deleted).toEqual(expect.arrayContaining(['results/q-1.csv', 'results/q-1.csv.metadata', 'results/q-5.csv']));
    expect(text).toContain('scanned 5.0 KB in 5 queries: table events_jsonl 1.0 KB (q-1)');
    expect(text).toMatch(/deleted the \d+ probe objects and the queries' result files/);
    expect(text).toMatch(/^deployment ok: 11 checks in \d+\.\d s$/m);
  });

  it('prints a BROKEN line with what differs and what it means when Athena rewrites 5e0 as 5, and exits 1', async () => {
    // An Athena whose JSON reader canonicalizes numbers (the OpenX SerDe): 5e0 is read as 5, whose text is "5", not "5.0".
    aws.answer = athena((members) => {
      members.set('seats_eq_5_0', []);
    });

    const doctor = await cohorts('doctor', '--cloud');

    expect(doctor.code).toBe(1);
    const text = doctor.stdout.join('\n');
    const want = (cohort: string) => (local.get(cohort) as string[]).join(', ');
    expect(want('seats_eq_5_0')).not.toBe('');
    expect(text).toContain(`BROKEN number text: seats_eq_5_0: Athena (none); expected ${want('seats_eq_5_0')}\n`);
    expect(text).toContain('means: Athena does not see JSON numbers in properties as written');
    expect(text).toMatch(/^ok {5}jsonl\.gz files/m);
    expect(text).toMatch(/^1 of 11 checks BROKEN in/m);
    expect(aws.keys(RESULTS)).toEqual([]);
  });

  it('reports Parquet microseconds read at millisecond precision (a stack before ts bigint) as broken', async () => {
    // Athena rounds ts to the millisecond: 22:59:59.9996 enters the 1h window, 23:59:59.9999 leaves it.
    aws.answer = athena((members) => {
      members.set('logged_in_1h', ['early', 'inside']);
    });

    const doctor = await cohorts('doctor', '--cloud');

    expect(doctor.code).toBe(1);
    const text = doctor.stdout.join('\n');
    expect(text).toContain(
      `BROKEN Parquet microseconds: logged_in_1h: Athena early, inside; expected ${(local.get('logged_in_1h') as string[]).join(', ')}`,
    );
    expect(text).toContain('means: Athena reads a Parquet ts at millisecond precision');
    expect(text).toMatch(/^1 of 11 checks BROKEN in/m);
  });

  it('names the table that cannot be read, and every probe check with the query failure, when a table query fails', async () => {
    const healthy = athena();
    aws.answer = (query) => {
      if (query.sql.includes('"events_parquet"')) {
        query.state = 'FAILED';
        query.reason = 'HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split';
        return;
      }
      healthy(query);
    };

    const doctor = await cohorts('doctor', '--cloud');

    expect(doctor.code).toBe(1);
    const text = doctor.stdout.join('\n');
    expect(text).toMatch(/^BROKEN table events_parquet: Athena query q-\d failed: HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split$/m);
    expect(text).toContain('means: every refresh of a lake holding Parquet events fails');
    expect(text).toMatch(/^ok {5}table events_jsonl: 10 rows read$/m);
    expect(text).toMatch(
      /^BROKEN probe cohorts \(number text, .*, Parquet microseconds\): the query failed: Athena query q-5 failed: HIVE_CANNOT_OPEN_SPLIT/m,
    );
    expect(text).toMatch(/^2 of 5 checks BROKEN in/m);
    // Only the succeeded queries' bytes are reported; the probe is cleaned up all the same.
    expect(text).toContain('scanned 3.0 KB in 3 queries');
    expect(aws.keys(RESULTS)).toEqual([]);
  });

  it('a table that reads fewer rows than the probe holds is BROKEN', async () => {
    const healthy = athena();
    aws.answer = (query) => {
      healthy(query);
      if (query.sql.includes('FROM "cohort_refresh"."events_jsonl" WHERE') && query.sql.startsWith('SELECT *'))
        query.rows = query.rows?.slice(0, -1) as string[][];
    };

    const doctor = await cohorts('doctor', '--cloud');

    expect(doctor.code).toBe(1);
    expect(doctor.stdout.join('\n')).toContain('BROKEN table events_jsonl: 9 rows read, the probe lake has 10');
  });

  it('--keep leaves the probe lake and its manifests in place, and says where', async () => {
    aws.answer = athena();

    const doctor = await cohorts('doctor', '--cloud', '--keep');

    expect(doctor.code).toBe(0);
    expect(aws.s3).not.toHaveReceivedCommand(DeleteObjectsCommand);
    const keys = aws.keys(RESULTS).filter((k) => !k.startsWith('results/'));
    expect(keys.sort()).toEqual(written().sort());
    expect(doctor.stdout.join('\n')).toMatch(
      new RegExp(`kept the probe lake at s3://${RESULTS}/doctor/[^/]+/lake/ and its manifests under lake-files/ \\(${keys.length} objects`),
    );
  });

  it('says what the caller lacks when the probe lake cannot be written, and checks nothing', async () => {
    aws.s3
      .on(PutObjectCommand)
      .rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));

    const doctor = await cohorts('doctor', '--cloud');

    expect(doctor.code).toBe(1);
    expect(doctor.stdout.join('\n')).toMatch(
      /^BROKEN probe lake: could not write it under s3:\/\/cohorts-results\/doctor\/[^/]+\/lake\/: .*Access Denied/m,
    );
    expect(doctor.stdout.join('\n')).toContain('the caller needs s3:PutObject');
    expect(aws.athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('needs --cloud', async () => {
    const doctor = await cohorts('doctor');
    expect(doctor.code).toBe(2);
    expect(doctor.stderr.join('\n')).toContain('doctor checks a deployment: cohorts doctor --cloud');
  });
});
