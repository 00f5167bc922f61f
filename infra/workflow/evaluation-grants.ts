import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EVALUATION_TABLE_PREFIX } from '../../shared/workflow/athena-statement.ts';
import type { CohortRefresh } from '../cohort-refresh.ts';

/** What a grantee may do with the per-run evaluation tables (see shared/workflow/athena-statement.ts). */
export type EvaluationTableAccess = 'create' | 'read' | 'drop';

const GLUE_ACTIONS: Record<EvaluationTableAccess, string[]> = {
  create: ['glue:GetTable', 'glue:CreateTable'],
  read: ['glue:GetTable'],
  drop: ['glue:GetTable', 'glue:DeleteTable'],
};

/** ARN pattern of every run's evaluation table in the construct's database. */
export function evaluationTablesArn(cohortRefresh: CohortRefresh): string {
  return Stack.of(cohortRefresh).formatArn({
    service: 'glue',
    resource: 'table',
    resourceName: `${cohortRefresh.catalog.databaseName}/${EVALUATION_TABLE_PREFIX}*`,
  });
}

/**
 * Lets the grantee use the tables the Evaluate state's CTAS creates, one per run
 * (`evaluation_<run>`): Glue access to those tables only (with the catalog and database Glue
 * checks along the way). Their files live under the results bucket's `results/`, which
 * `grantQueryLake` already covers.
 */
export function grantEvaluationTables(cohortRefresh: CohortRefresh, grantee: iam.IGrantable, access: EvaluationTableAccess): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: GLUE_ACTIONS[access],
    resourceArns: [cohortRefresh.catalog.catalogArn, cohortRefresh.catalog.databaseArn, evaluationTablesArn(cohortRefresh)],
  });
}

/**
 * Lets the grantee read a query's runtime statistics in the workgroup: the output row count of a
 * run's CTAS is the population of its evaluation.
 */
export function grantQueryStatistics(cohortRefresh: CohortRefresh, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['athena:GetQueryRuntimeStatistics'],
    resourceArns: [cohortRefresh.workGroupArn],
  });
}
