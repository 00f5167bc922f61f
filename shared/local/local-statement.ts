import type { StatementBuilder } from '../engine/plan.ts';

/** The Evaluate statement locally: the query itself; `DuckDbEngine.evaluate` keeps its result in a temporary table. */
export const localStatement: StatementBuilder = (plan) => plan.query;
