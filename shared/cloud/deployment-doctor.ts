import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { identifier, stringLiteral } from '../compiler/sql-text.ts';
import { uniqueInByteOrder } from '../store/parquet-members-codec.ts';
import { athenaLakeRelations } from './athena-lake.ts';
import type { AthenaQueryResult, AthenaQueryRunner } from './athena-query.ts';
import { awsCall } from './aws-call.ts';
import { type LakeManifests, lakeManifests, writeLakeManifests } from './lake-manifests.ts';
import { withTsUnits } from './lake-ts-units.ts';
import { listLakeObjects } from './lake-objects.ts';
import { parseS3Uri } from './s3-uri.ts';
import { DOCTOR_PREFIX, LAKE_FILES_PREFIX } from '../bucket-layout.ts';

/** The four lake tables a deployment reads (infra/catalog/lake-catalog.ts). */
export const LAKE_TABLES = ['events_jsonl', 'events_parquet', 'identities_jsonl', 'identities_parquet'] as const;
export type LakeTable = (typeof LAKE_TABLES)[number];

/** One check of the probe: cohorts whose members Athena must give as the local engine does. */
export interface DoctorCheck {
  readonly name: string;
  readonly cohorts: readonly string[];
  /** What a difference means for the deployment and what to do. */
  readonly meaning: string;
}

/** What the doctor runs: the probe lake, its cohorts compiled for Athena, and what they must give. */
export interface DoctorProbe {
  /** Files relative to the probe lake's root (`events/dt=.../...`, `identities/...`). */
  readonly files: readonly { readonly key: string; readonly body: Uint8Array }[];
  /** The refresh query over the lake relations, with each cohort's column. */
  readonly compile: (relations: LakeRelations) => { readonly sql: string; readonly columns: ReadonlyMap<string, string> };
  /** The members each cohort must have (the local engine's, on the same lake), in byte order. */
  readonly expected: ReadonlyMap<string, readonly string[]>;
  /** Rows each lake table holds in the probe lake. */
  readonly tableRows: Readonly<Record<LakeTable, number>>;
  readonly checks: readonly DoctorCheck[];
}

/** The deployment the doctor checks. */
export interface DoctorTarget {
  readonly s3: S3Client;
  /** Runs the queries in the deployment's workgroup and Glue database. */
  readonly runner: AthenaQueryRunner;
  readonly database: string;
  readonly resultsBucket: string;
  /** Leave the probe lake and its manifests in place. */
  readonly keep?: boolean;
  /** Names this run's folder under `doctor/`. @default - the time and a random suffix */
  readonly runId?: string;
  readonly now?: () => number;
}

/** One line of the report. */
export interface DoctorLine {
  readonly check: string;
  readonly status: 'ok' | 'broken';
  readonly detail: string;
  /** What it means, when it is broken. */
  readonly meaning?: string;
}

/** One query the doctor ran. */
export interface DoctorQuery {
  readonly name: string;
  readonly queryId?: string;
  readonly bytesScanned?: number;
}

/** What `cohorts doctor --cloud` prints. */
export interface DoctorReport {
  /** `s3://<results bucket>/doctor/<run>/lake/`. */
  readonly probeLake: string;
  readonly lines: readonly DoctorLine[];
  readonly queries: readonly DoctorQuery[];
  readonly elapsedMs: number;
  /** Objects written (probe lake, manifests, copies) and whether they were deleted. */
  readonly written: number;
  readonly cleanup: 'deleted' | 'kept' | { readonly failed: string };
}

const TABLE_MEANING: Readonly<Record<LakeTable, string>> = {
  events_jsonl: 'every refresh of a lake holding JSONL events fails',
  events_parquet: 'every refresh of a lake holding Parquet events fails',
  identities_jsonl: 'every refresh of a lake with a JSONL identity map fails',
  identities_parquet: 'every refresh of a lake with a Parquet identity map fails',
};
const TABLE_ADVICE =
  'check that the stack is deployed at this version (the table definitions) and that the caller may read lake-files/ and doctor/ of the results bucket (IAM, KMS)';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };
const settle = <T>(work: Promise<T>): Promise<Outcome<T>> =>
  work.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error instanceof Error ? error.message : String(error) }),
  );

const rowsText = (n: number) => `${n} ${n === 1 ? 'row' : 'rows'}`;
const sorted = (ids: readonly string[]) => (ids.length === 0 ? '(none)' : ids.join(', '));

/**
 * Checks a deployment with a handful of tiny Athena queries: writes the probe lake under
 * `doctor/<run>/lake/` of the results bucket, its manifests with the Plan step's own code, reads
 * each lake table over the probe's listing (one query each, a few rows), runs the probe cohorts'
 * query (compiled in the Athena dialect over the same relations the Plan step builds) and compares
 * each cohort's members with the expected ones. Deletes what it wrote (and the queries' result
 * files) unless `keep`. Every query reads only the probe's kilobytes.
 */
export async function checkDeployment(probe: DoctorProbe, target: DoctorTarget): Promise<DoctorReport> {
  const now = target.now ?? Date.now;
  const started = now();
  const run =
    target.runId ??
    `${new Date(started)
      .toISOString()
      .replace(/[^0-9]/g, '')
      .slice(0, 14)}-${Math.random().toString(36).slice(2, 8)}`;
  const lakePrefix = `${DOCTOR_PREFIX}${run}/lake/`;
  const bucket = target.resultsBucket;
  const written: string[] = [];
  const queries: DoctorQuery[] = [];
  const lines: DoctorLine[] = [];
  const report = (cleanup: DoctorReport['cleanup']): DoctorReport => ({
    probeLake: `s3://${bucket}/${lakePrefix}`,
    lines,
    queries,
    elapsedMs: now() - started,
    written: written.length,
    cleanup,
  });

  let manifests: LakeManifests;
  try {
    for (const file of probe.files) {
      const key = `${lakePrefix}${file.key}`;
      await awsCall('S3.PutObject', () => target.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: file.body })));
      written.push(key);
    }
    const where = { lakeBucket: bucket, filesBucket: bucket, filesPrefix: LAKE_FILES_PREFIX };
    manifests = lakeManifests(await withTsUnits(target.s3, bucket, (await listLakeObjects(target.s3, bucket, lakePrefix)).objects), where);
    written.push(...manifests.copies.map((c) => c.to), ...manifests.manifests.keys());
    await writeLakeManifests(target.s3, where, manifests);
  } catch (error) {
    lines.push({
      check: 'probe lake',
      status: 'broken',
      detail: `could not write it under s3://${bucket}/${lakePrefix}: ${(error as Error).message}`,
      meaning:
        'the caller needs s3:PutObject (and kms:GenerateDataKey) on doctor/* and lake-files/* of the results bucket; nothing was checked',
    });
    return report(target.keep ? 'kept' : await cleanUp(target.s3, bucket, written));
  }

  const relations = athenaLakeRelations({ database: target.database }, manifests);
  const compiled = probe.compile(relations);
  const named = (name: string, work: Promise<AthenaQueryResult>) =>
    settle(
      work.then((result) => {
        queries.push({ name, queryId: result.queryId, bytesScanned: result.statistics.dataScannedInBytes });
        return result;
      }),
    );
  const [tables, cohorts] = await Promise.all([
    Promise.all(LAKE_TABLES.map((table) => named(`table ${table}`, target.runner.query(tableQuery(target.database, table, manifests))))),
    named('probe cohorts', target.runner.query(compiled.sql)),
  ]);

  LAKE_TABLES.forEach((table, i) => {
    lines.push(tableLine(table, tables[i] as Outcome<AthenaQueryResult>, probe.tableRows[table]));
  });
  lines.push(...cohortLines(probe, compiled.columns, cohorts));

  const results = [...tables, cohorts].flatMap((o) => (o.ok && o.value.outputLocation ? [o.value.outputLocation] : []));
  const cleanup = target.keep ? 'kept' : await cleanUp(target.s3, bucket, written, results);
  // Keep the report's queries in a stable order: the tables', then the probe's.
  queries.sort((a, b) => (a.name === 'probe cohorts' ? 1 : b.name === 'probe cohorts' ? -1 : a.name < b.name ? -1 : 1));
  return report(cleanup);
}

/** `SELECT * FROM <table> WHERE listing = ... [AND dt BETWEEN first AND last] LIMIT n`: the probe's rows of one table. */
export function tableQuery(database: string, table: LakeTable, manifests: LakeManifests): string {
  const parquet = Object.values(manifests.dates.parquet).flat().sort();
  const dates = table === 'events_jsonl' ? manifests.dates.jsonl : table === 'events_parquet' ? parquet : undefined;
  const dt =
    dates && dates.length > 0 ? ` AND dt BETWEEN ${stringLiteral(dates[0] as string)} AND ${stringLiteral(dates.at(-1) as string)}` : '';
  return `SELECT * FROM ${identifier(database)}.${identifier(table)} WHERE listing = ${stringLiteral(manifests.listing)}${dt} LIMIT 100`;
}

function tableLine(table: LakeTable, outcome: Outcome<AthenaQueryResult>, expected: number): DoctorLine {
  const check = `table ${table}`;
  if (!outcome.ok) return { check, status: 'broken', detail: outcome.error, meaning: `${TABLE_MEANING[table]}; ${TABLE_ADVICE}` };
  const got = outcome.value.rows.length;
  if (got === expected) return { check, status: 'ok', detail: `${rowsText(got)} read` };
  return {
    check,
    status: 'broken',
    detail: `${rowsText(got)} read, the probe lake has ${expected}`,
    meaning: `the table does not read every file its manifests list: refreshes miss data; ${TABLE_ADVICE}`,
  };
}

function cohortLines(probe: DoctorProbe, columns: ReadonlyMap<string, string>, outcome: Outcome<AthenaQueryResult>): DoctorLine[] {
  if (!outcome.ok) {
    return [
      {
        check: `probe cohorts (${probe.checks.map((c) => c.name).join(', ')})`,
        status: 'broken',
        detail: `the query failed: ${outcome.error}`,
        meaning: 'refreshes fail the same way: see the table lines above for the table that cannot be read',
      },
    ];
  }
  const { columns: names, rows } = outcome.value;
  const person = names.indexOf('person_id');
  const membersOf = (cohort: string): string[] | undefined => {
    const index = names.indexOf(columns.get(cohort) ?? '');
    if (index < 0 || person < 0) return undefined;
    return uniqueInByteOrder(rows.filter((row) => row[index] === 'true').map((row) => row[person] ?? ''));
  };
  return probe.checks.map((c) => {
    const differences = c.cohorts.flatMap((cohort) => {
      const got = membersOf(cohort);
      const want = probe.expected.get(cohort) ?? [];
      if (got === undefined) return [`${cohort}: no column in the result`];
      return got.join('\n') === want.join('\n') ? [] : [`${cohort}: Athena ${sorted(got)}; expected ${sorted(want)}`];
    });
    if (differences.length === 0)
      return {
        check: c.name,
        status: 'ok',
        detail: `${c.cohorts.length === 1 ? c.cohorts[0] : `${c.cohorts.length} cohorts`} as expected`,
      };
    return { check: c.name, status: 'broken', detail: differences.join('; '), meaning: c.meaning };
  });
}

/** Deletes what the doctor wrote and its queries' result files (which lie under the results bucket). */
async function cleanUp(
  s3: S3Client,
  bucket: string,
  written: readonly string[],
  results: readonly string[] = [],
): Promise<DoctorReport['cleanup']> {
  const keys = [...written];
  for (const location of results) {
    const { bucket: resultBucket, key } = parseS3Uri(location);
    if (resultBucket === bucket) keys.push(key, `${key}.metadata`);
  }
  try {
    for (let i = 0; i < keys.length; i += 1000) {
      const out = await awsCall('S3.DeleteObjects', () =>
        s3.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
        ),
      );
      const failed = out?.Errors ?? [];
      if (failed.length > 0) return { failed: `${failed.length} objects not deleted (${failed[0]?.Code}: ${failed[0]?.Message})` };
    }
    return 'deleted';
  } catch (error) {
    return { failed: (error as Error).message };
  }
}
