import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { deploymentSchema, stateMachineArn } from '../cloud/environment.ts';
import { UsageError } from './errors.ts';
import { unreadableReason } from './named-file.ts';

/** The stack output that gives each name (infra/cohort-refresh-stack.ts). */
const OUTPUT_OF = {
  DEFINITIONS_BUCKET: 'DefinitionsBucketName',
  SNAPSHOTS_BUCKET: 'SnapshotsBucketName',
  EVENT_LAKE_BUCKET: 'EventLakeBucketName',
  EVENT_LAKE_PREFIX: 'EventLakePrefix',
  ATHENA_RESULTS_BUCKET: 'AthenaResultsBucketName',
  ATHENA_WORKGROUP: 'WorkGroupName',
  GLUE_DATABASE: 'DatabaseName',
  STATE_MACHINE_ARN: 'StateMachineArn',
} as const;

type Name = keyof typeof OUTPUT_OF;

const cloudSchema = deploymentSchema.extend({ STATE_MACHINE_ARN: stateMachineArn.optional() });

/** A deployment as `cohorts ... --cloud` finds it: the Lambdas' names, and the state machine approvals start. */
export type CloudDeployment = z.output<typeof cloudSchema>;

/** How to give the names, said in every error about them. */
const HOW =
  'set them as environment variables (the names the Lambda functions read), or pass --stack-outputs FILE written by ' +
  '`aws cloudformation describe-stacks --stack-name CohortRefreshStack --query "Stacks[0].Outputs" > FILE`';

const outputsSchema = z.array(z.looseObject({ OutputKey: z.string(), OutputValue: z.string() }));

/** The names a `describe-stacks` outputs file gives, by environment variable. */
async function namesFromOutputs(file: string): Promise<Partial<Record<Name, string>>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const why = error instanceof SyntaxError ? `not JSON (${error.message})` : (unreadableReason(error) ?? (error as Error).message);
    throw new UsageError(`--stack-outputs ${file}: ${why}; ${HOW}`);
  }
  const outputs = outputsSchema.safeParse(parsed);
  if (!outputs.success) throw new UsageError(`--stack-outputs ${file} is not a list of {OutputKey, OutputValue}; ${HOW}`);
  const byKey = new Map(outputs.data.map((o) => [o.OutputKey, o.OutputValue]));
  return Object.fromEntries(
    (Object.entries(OUTPUT_OF) as [Name, string][]).flatMap(([name, output]) => (byKey.has(output) ? [[name, byKey.get(output)]] : [])),
  );
}

/**
 * The deployment a `--cloud` command works on: the stack's outputs file when given, each name
 * overridden by the environment variable the Lambda functions read (DEFINITIONS_BUCKET, ...).
 * Every missing or malformed name is said in one UsageError, with the stack output that gives it.
 * `needs` lists optional names the command cannot do without (STATE_MACHINE_ARN for approve).
 */
export async function readCloudDeployment(options: {
  readonly stackOutputs?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly needs?: readonly 'STATE_MACHINE_ARN'[];
}): Promise<CloudDeployment> {
  const fromOutputs = options.stackOutputs === undefined ? {} : await namesFromOutputs(options.stackOutputs);
  const names = Object.fromEntries(
    (Object.keys(OUTPUT_OF) as Name[]).flatMap((name) => {
      const value = options.env[name] ?? fromOutputs[name];
      return value === undefined ? [] : [[name, value]];
    }),
  );
  const parsed = cloudSchema.safeParse({ ...names, ATHENA_MAX_WAIT_MS: options.env.ATHENA_MAX_WAIT_MS });
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => ({ name: String(issue.path[0]), message: issue.message }));
  for (const name of options.needs ?? []) if (names[name] === undefined) problems.push({ name, message: 'missing' });
  if (!parsed.success || problems.length > 0) {
    const lines = problems.map(({ name, message }) => {
      const output = OUTPUT_OF[name as Name];
      const given = names[name as Name];
      return `${name}${output ? ` (stack output ${output})` : ''}: ${given === undefined ? 'missing' : message}`;
    });
    // One line a name: on one line, six missing names pushed the remedy past the cut of an error line.
    throw new UsageError(`--cloud needs the deployment's names; ${HOW}:\n${lines.map((line) => `  ${line}`).join('\n')}`);
  }
  return parsed.data;
}
