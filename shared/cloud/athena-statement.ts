import { identifier } from '../compiler/sql-text.ts';
import type { StatementBuilder } from '../engine/plan.ts';

/** Prefix of every table a run's Evaluate state creates in the Glue database. */
export const EVALUATION_TABLE_PREFIX = 'evaluation_';

/** The table a run's CTAS creates: `evaluation_<run id in lower case, anything else as _>`. */
export function evaluationTableName(runId: string): string {
  return `${EVALUATION_TABLE_PREFIX}${runId.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
}

/**
 * The Evaluate statement on Athena: `CREATE TABLE <database>.evaluation_<run> WITH (format =
 * 'PARQUET') AS <query>`.
 *
 * CTAS rather than UNLOAD: the result becomes a typed, columnar table in the run's Glue
 * database, so each Snapshot iteration reads its cohort with a plain
 * `SELECT person_id FROM evaluation_<run> WHERE <column>` (scanning two columns of Parquet) and
 * Finish releases it with `DROP TABLE`. UNLOAD leaves untyped files that every Snapshot would
 * have to read with its own Parquet reader or register as a table first.
 *
 * No `external_location`: the workgroup enforces its results location, and Athena rejects a CTAS
 * that names one there. The table's files land under `results/tables/<query id>/` of the
 * results bucket and expire with its lifecycle rule, even when a failed run never drops it.
 */
export function athenaStatement(options: { readonly database: string }): StatementBuilder {
  identifier(options.database);
  return (plan) => evaluationStatement(options.database, plan.run_id, plan.query);
}

/** The CTAS of {@link athenaStatement} for one run's query. */
export function evaluationStatement(database: string, runId: string, query: string): string {
  return `${evaluationStatementHead(database, runId)} WITH (format = 'PARQUET') AS\n${query}`;
}

/** How a run's CTAS starts: `CREATE TABLE "<database>"."evaluation_<run>"`, which tells its query apart. */
export function evaluationStatementHead(database: string, runId: string): string {
  return `CREATE TABLE ${identifier(database)}.${identifier(evaluationTableName(runId))}`;
}
