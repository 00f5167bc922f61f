import { identifier } from '../compiler/sql-text.ts';
import { type EvaluationLookup, EvaluationNotFoundError, type EvaluationRef, type EvaluationState } from '../ports.ts';
import { evaluationStatementHead, evaluationTableName } from './athena-statement.ts';
import type { AthenaQueryRunner } from './athena-query.ts';

/**
 * The evaluation a run's CTAS made: its table, and its rows (one per person in the population) as
 * the query's runtime statistics count them (`OutputRows`), one API call and no scan. Should
 * Athena not report them, `count(*)` over the table answers (Parquet footers: nothing scanned).
 */
export async function evaluationPopulation(
  runner: AthenaQueryRunner,
  database: string,
  runId: string,
  queryId: string,
): Promise<EvaluationRef> {
  const table = evaluationTableName(runId);
  const reported = await runner.outputRows(queryId);
  if (reported !== undefined) return { location: table, population: reported };
  const { rows } = await runner.query(`SELECT count(*) AS population FROM ${identifier(database)}.${identifier(table)}`);
  const counted = Number(rows[0]?.[0]);
  if (!Number.isSafeInteger(counted)) throw new Error(`counting ${table} returned ${JSON.stringify(rows[0]?.[0])}`);
  return { location: table, population: counted };
}

/**
 * Finds the evaluation the Evaluate state (Athena's StartQueryExecution .sync) kept for a run: the
 * query id it left at `$.evaluation` must be a CTAS of this run's table in this database that
 * succeeded; anything else (another run's query, a SELECT) is an {@link EvaluationNotFoundError}.
 */
export class AthenaEvaluations implements EvaluationLookup {
  constructor(
    private readonly runner: AthenaQueryRunner,
    private readonly database: string,
  ) {}

  async find(runId: string, evaluation: EvaluationState): Promise<EvaluationRef> {
    const queryId = evaluation.query_execution_id;
    const execution = await this.runner.wait(queryId);
    const head = `${evaluationStatementHead(this.database, runId)} `;
    if (!execution.Query?.startsWith(head)) {
      throw new EvaluationNotFoundError(
        `Athena query ${queryId} is not the evaluation of run ${runId} (it does not start with ${head.trim()})`,
      );
    }
    return evaluationPopulation(this.runner, this.database, runId, queryId);
  }
}
