import { vi } from 'vitest';
import { PARTS_COLUMNS } from '../../shared/checks/source-query.ts';
import { SOURCE_CHECK_COLUMNS } from '../../shared/checks/source-rows.ts';
import { header } from '../support/lake.ts';
import type { FakeAws, FakeQuery } from './fake-aws.ts';
import { PARQUET_EVENTS_MILLIS } from '../cloud/parquet-ts.ts';

/** The environment RefreshStateMachine gives the step functions (Deliver's own variables included). */
export const ENVIRONMENT = {
  DEFINITIONS_BUCKET: 'cohorts-definitions',
  SNAPSHOTS_BUCKET: 'cohorts-snapshots',
  EVENT_LAKE_BUCKET: 'cohorts-lake',
  EVENT_LAKE_PREFIX: '',
  ATHENA_RESULTS_BUCKET: 'cohorts-results',
  ATHENA_WORKGROUP: 'cohort-refresh',
  GLUE_DATABASE: 'cohort_refresh',
  ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-central-1:111122223333:alerts',
  EXPORTS_BUCKET: 'cohorts-exports',
  EVENT_BUS_NAME: 'default',
  STATE_MACHINE_ARN: 'arn:aws:states:eu-central-1:111122223333:stateMachine:cohort-refresh',
  PRIVACY_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:cohorts-privacy-key-AbCdEf',
  ATHENA_MAX_WAIT_MS: '60000',
  AWS_REGION: 'eu-central-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

export type Handler = (event: unknown) => Promise<unknown>;

export const RUN = 'r1';
export const CTAS_ID = 'q-evaluate';
export const CTAS_HEAD = 'CREATE TABLE "cohort_refresh"."evaluation_r1"';
export const EVALUATION = { query_execution_id: CTAS_ID };
/** What the Tiles state leaves for the steps after it: here a full refresh, whose CTAS Evaluate ran. */
export const TILES = {
  statement: `${CTAS_HEAD} WITH (format = 'PARQUET') AS\nSELECT 1`,
  mode: 'full',
  raw_partitions: ['2024-05-30', '2024-05-31'],
  raw_measures: [],
  built_days: [],
  rebuilt_days: [],
  reused_days: 0,
} as const;
export const planEvent = { request: { trigger: 'manual', cohorts: ['payers'] }, run_id: RUN, started_at: '2024-06-01T00:00:00Z' };

/** Sets the environment, then imports every step handler, as Lambda loads them. */
export async function loadHandlers(): Promise<Record<string, Handler>> {
  for (const [key, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(key, value);
  return {
    Plan: (await import('../../functions/plan.ts')).handler,
    Snapshot: (await import('../../functions/snapshot.ts')).handler,
    Deliver: (await import('../../functions/deliver.ts')).handler,
    Finish: (await import('../../functions/finish.ts')).handler,
    AlertFailure: (await import('../../functions/alert-failure.ts')).handler,
  };
}

/**
 * Answers the source checks' statement by parts (rows, ts spans and event digests), which Plan
 * reads from its CSV result: no row. Returns whether the query was that one.
 */
export function answeredDigests(aws: FakeAws, query: FakeQuery): boolean {
  if (!query.sql.includes("'key' AS kind")) return false;
  query.outputLocation = `s3://cohorts-results/results/${query.id}.csv`;
  aws.put('cohorts-results', `results/${query.id}.csv`, `${PARTS_COLUMNS.map((column) => `"${column}"`).join(',')}\n`);
  return true;
}

/**
 * The bucket of definitions and the lake's partitions, and the CTAS the Evaluate state ran. The
 * fake Athena answers source checks with no rows (nor event digests) and a cohort's members from a CSV result file.
 */
export function givenDeployment(aws: FakeAws, membersCsv = '"person_id"\n"cid"\n"ann"\n"bob"\n'): void {
  aws.put('cohorts-definitions', 'payers.yaml', `${header('payers')}rule:\n  event: invoice_paid\n  within: 30d\n`);
  aws.put('cohorts-lake', 'events/dt=2024-05-30/part-0.parquet', PARQUET_EVENTS_MILLIS);
  aws.put('cohorts-lake', 'events/dt=2024-05-31/part-0.parquet', PARQUET_EVENTS_MILLIS);
  aws.ran({ id: CTAS_ID, sql: `${CTAS_HEAD} WITH (format = 'PARQUET') AS\nSELECT 1`, outputRows: 3041 });
  aws.tables.set('evaluation_r1', `s3://cohorts-results/results/tables/${CTAS_ID}`);
  aws.put('cohorts-results', `results/tables/${CTAS_ID}/part-0`, 'PAR1');
  aws.answer = (query: FakeQuery) => {
    if (query.sql.startsWith('SELECT person_id FROM')) {
      query.outputLocation = `s3://cohorts-results/results/${query.id}.csv`;
      aws.put('cohorts-results', `results/${query.id}.csv`, membersCsv);
      aws.put('cohorts-results', `results/${query.id}.csv.metadata`, 'athena result metadata');
    } else if (!answeredDigests(aws, query)) {
      query.rows = [[...SOURCE_CHECK_COLUMNS]];
    }
  };
}
