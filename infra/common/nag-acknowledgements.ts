import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { EVALUATION_TABLE_PREFIX } from '../../shared/cloud/athena-statement.ts';

/** Why a wildcard resource is needed, or undefined when it is not explained (and stays a finding). */
export type WildcardReason = (resource: string, actions: readonly string[]) => string | undefined;

/** Why each wildcard resource the product's roles hold is needed. */
export const WILDCARD_REASONS: WildcardReason = (resource, actions) => {
  const only = (...prefixes: string[]) => actions.every((action) => prefixes.some((prefix) => action.startsWith(prefix)));
  if (resource === '*' && only('xray:')) {
    return 'X-Ray trace submission has no resource-level permissions; "*" is the only resource it accepts.';
  }
  if (resource === '*' && only('xray:', 'logs:')) {
    return 'X-Ray trace submission and Step Functions log delivery (CloudWatch Logs vended logs API) have no resource-level permissions; "*" is the only resource they accept.';
  }
  if (only('s3:') && resource.endsWith('/*')) {
    return 'Objects under one key prefix of a project bucket: snapshot versions, dates, cohort ids and query ids are not known in advance.';
  }
  if (only('glue:') && resource.endsWith(`/${EVALUATION_TABLE_PREFIX}*`)) {
    return 'One evaluation table per run, named after the run id when it is planned.';
  }
  if (only('states:DescribeExecution') && resource.includes(':execution:')) {
    return "The executions of the refresh state machine, named by run ids not known in advance: Plan reads their input's cadence so that runs of one cadence never overlap.";
  }
  return undefined;
};

/** Acknowledges cdk-nag's "not the latest runtime" on a function made by refreshFunction (infra/common/refresh-function.ts). */
export function acknowledgePinnedRuntime(fn: lambda.IFunction): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Pinned to nodejs22.x, the runtime the bundles target (esbuild target node22) and the project tests against; moving to a newer runtime is a deliberate upgrade, not drift at synthesis.',
  });
}

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * A CloudFormation reference as cdk-nag names it in a finding (`<Logical.Arn>`, joins flattened).
 * Mirrors cdk-nag's flattenCfnReference, which is not part of its public API.
 */
export function flattenReference(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    if (record['Fn::Join']) {
      const [delimiter, items] = record['Fn::Join'] as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (record['Fn::Sub']) return flattenReference(record['Fn::Sub']);
    if (record['Fn::GetAtt']) {
      const [resource, attribute] = record['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
    }
    if (record['Fn::ImportValue']) return flattenReference(record['Fn::ImportValue']);
    if (record.Ref) return `<${flattenReference(record.Ref)}>`;
  }
  return JSON.stringify(node);
}

/**
 * Acknowledges each wildcard resource (cdk-nag `AwsSolutions-IAM5[Resource::...]`) in a role's
 * policies that `reason` explains, with that reason. Call it after every grant to the role: a
 * wildcard added later, or one `reason` does not explain, stays a finding and fails synthesis.
 */
export function acknowledgeWildcardResources(role: iam.Role, reason: WildcardReason): void {
  const stack = Stack.of(role);
  const policies = role.node.findAll().filter((c): c is iam.Policy => c instanceof iam.Policy);
  // Every action allowed on each wildcard resource, across statements: how statements are split
  // or merged (the minimizePolicies flag) must not change the verdict.
  const actionsOn = new Map<string, Set<string>>();
  for (const policy of policies) {
    const document = stack.resolve(policy.document) as { Statement?: Statement[] } | undefined;
    for (const statement of document?.Statement ?? []) {
      if (statement.Effect !== 'Allow') continue;
      for (const resource of list(statement.Resource).map(flattenReference)) {
        if (!resource.includes('*')) continue;
        const actions = actionsOn.get(resource) ?? new Set<string>();
        for (const action of list(statement.Action)) actions.add(action);
        actionsOn.set(resource, actions);
      }
    }
  }
  for (const [resource, actions] of actionsOn) {
    const why = reason(resource, [...actions]);
    if (why !== undefined) Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason: why });
  }
}
