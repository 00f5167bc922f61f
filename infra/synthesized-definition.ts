import { rmSync } from 'node:fs';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** A reference in the synthesized definition the local world has no value for. */
export class UnresolvableReferenceError extends Error {
  override readonly name = 'UnresolvableReferenceError';
}

/** Pseudo parameters as the local world sees them. */
const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'local-1',
  'AWS::AccountId': '000000000000',
  'AWS::URLSuffix': 'amazonaws.com',
};

/**
 * One part of a `DefinitionString`'s `Fn::Join` as text: strings as they are, pseudo parameters
 * as local values, `Fn::GetAtt` of a function's ARN as a placeholder Lambda ARN (the runner
 * overrides every Task by state name, so the ARN is never called).
 */
export function substitute(part: unknown): string {
  if (typeof part === 'string') return part;
  const ref = (part as { Ref?: unknown }).Ref;
  if (typeof ref === 'string' && PSEUDO[ref] !== undefined) return PSEUDO[ref];
  const getAtt = (part as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') {
    return `arn:aws:lambda:${PSEUDO['AWS::Region']}:${PSEUDO['AWS::AccountId']}:function:${getAtt[0]}`;
  }
  throw new UnresolvableReferenceError(`the state machine definition refers to ${JSON.stringify(part)}, which has no local value`);
}

/** The ASL of a resolved `DefinitionString`: a plain string or an `Fn::Join` of parts. */
export function aslOf(definitionString: unknown): StateMachineDefinition {
  if (typeof definitionString === 'string') return JSON.parse(definitionString) as StateMachineDefinition;
  const join = (definitionString as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new UnresolvableReferenceError(`not a definition string: ${JSON.stringify(definitionString).slice(0, 200)}`);
  return JSON.parse(join[1].map(substitute).join(join[0])) as StateMachineDefinition;
}

/**
 * Synthesizes the deployable stack in memory (no bundling, no template written) and returns the
 * refresh state machine's definition: the very ASL `cdk deploy` would create. The CDK libraries
 * load only here, on first use.
 */
async function synthesize(): Promise<StateMachineDefinition> {
  const [{ App }, { CfnStateMachine }, { CohortRefreshStack }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-stepfunctions'),
    import('./cohort-refresh-stack.ts'),
  ]);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, analyticsReporting: false });
  try {
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', { config: { alertEmails: [] } });
    const machines = stack.node.findAll().filter((c): c is InstanceType<typeof CfnStateMachine> => c instanceof CfnStateMachine);
    const [machine, ...others] = machines;
    if (!machine || others.length > 0) throw new Error(`expected one state machine in the stack, found ${machines.length}`);
    return aslOf(stack.resolve(machine.definitionString));
  } finally {
    // The app made an empty assembly folder in the temp dir; nothing was synthesized into it.
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

let cached: Promise<StateMachineDefinition> | undefined;

/**
 * The refresh state machine's ASL, synthesized once per process. Each caller gets its own copy:
 * aws-local-stepfunctions' validator writes defaults into the definition it is given.
 */
export async function refreshStateMachineAsl(): Promise<StateMachineDefinition> {
  cached ??= synthesize().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return structuredClone(await cached);
}
