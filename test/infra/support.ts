import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { CohortFoundation, type CohortFoundationProps } from '../../infra/foundation/cohort-foundation.ts';

/** Props, or a function of the stack that makes them (to import resources into that stack). */
export type PropsOrFactory = CohortFoundationProps | ((stack: Stack) => CohortFoundationProps);

/** A fresh app (no bundling, plus any extra context) and stack holding one CohortFoundation. */
export function givenFoundation(
  props: PropsOrFactory = {},
  context: Record<string, unknown> = {},
): { app: App; stack: Stack; foundation: CohortFoundation } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new Stack(app, 'TestStack');
  const foundation = new CohortFoundation(stack, 'CohortRefresh', typeof props === 'function' ? props(stack) : props);
  return { app, stack, foundation };
}

/** The synthesized template of a stack. */
export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}

/** `{ Ref: <logical id> }` of an L2 construct's CloudFormation resource. */
export function refTo(construct: IConstruct): { Ref: string } {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no default child`);
  return { Ref: Stack.of(construct).getLogicalId(resource as CfnElement) };
}

/** `{ 'Fn::GetAtt': [<logical id>, 'Arn'] }` of an L2 construct's CloudFormation resource. */
export function arnOf(construct: IConstruct): { 'Fn::GetAtt': [string, string] } {
  return { 'Fn::GetAtt': [refTo(construct).Ref, 'Arn'] };
}

/** A resource of a synthesized template, found by the logical id of an L2 construct's CloudFormation resource. */
export function resourceOf(template: Template, construct: IConstruct): { Properties: Record<string, unknown> } & Record<string, unknown> {
  const logicalId = refTo(construct).Ref;
  const resource = (template.toJSON().Resources as Record<string, unknown>)[logicalId];
  if (!resource) throw new Error(`no resource ${logicalId} in the template`);
  return resource as { Properties: Record<string, unknown> };
}
