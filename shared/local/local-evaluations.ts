import { type EvaluationLookup, EvaluationNotFoundError, type EvaluationRef, type EvaluationState } from '../ports.ts';

/**
 * Results the local Evaluate stand-in kept, by the id it handed to the state machine. They live
 * as long as the DuckDB connection that holds their tables, so in memory is where they belong.
 */
export class LocalEvaluations implements EvaluationLookup {
  private readonly kept = new Map<string, { readonly runId: string; readonly result: EvaluationRef }>();

  /** Records a kept result; returns what the Evaluate state puts at `$.evaluation`. */
  keep(runId: string, result: EvaluationRef): EvaluationState {
    const id = `local-${runId}`;
    this.kept.set(id, { runId, result });
    return { query_execution_id: id };
  }

  async find(runId: string, evaluation: EvaluationState): Promise<EvaluationRef> {
    const kept = this.kept.get(evaluation.query_execution_id);
    if (!kept || kept.runId !== runId) {
      throw new EvaluationNotFoundError(`no kept result ${evaluation.query_execution_id} for run ${runId}`);
    }
    return kept.result;
  }
}
