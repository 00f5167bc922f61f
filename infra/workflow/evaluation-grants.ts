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

/** Where a CTAS without `external_location` writes its table's files in the workgroup's results. */
export const EVALUATION_FILES_PATTERN = 'results/tables/*';

/**
 * Lets the grantee use the tables the Evaluate state's CTAS creates, one per run
 * (`evaluation_<run>`): Glue access to those tables only (with the catalog and database Glue
 * checks along the way). Their files live under the results bucket's `results/`, which
 * `grantQueryLake` lets read and write; `drop` may also delete them (`results/tables/*`), since
 * releasing an evaluation deletes the person ids it holds rather than wait for the lifecycle rule.
 */
export function grantEvaluationTables(cohortRefresh: CohortRefresh, grantee: iam.IGrantable, access: EvaluationTableAccess): iam.Grant {
  const tables = iam.Grant.addToPrincipal({
    grantee,
    actions: GLUE_ACTIONS[access],
    resourceArns: [cohortRefresh.catalog.catalogArn, cohortRefresh.catalog.databaseArn, evaluationTablesArn(cohortRefresh)],
  });
  if (access !== 'drop') return tables;
  return tables.combine(
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:DeleteObject'],
      // Object ARN ends in "*": one folder per Evaluate query id (acknowledged in WILDCARD_REASONS).
      resourceArns: [cohortRefresh.athenaResultsBucket.arnForObjects(EVALUATION_FILES_PATTERN)],
    }),
  );
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
