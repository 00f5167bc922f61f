import { fileURLToPath } from 'node:url';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTION_TIMEOUT_SECONDS } from '../../shared/workflow/step-limits.ts';

/** The repository root: the esbuild project root and where `functions/` lives. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Options of {@link refreshFunction}: only what differs between the refresh's functions. */
export interface RefreshFunctionOptions {
  /** Handler file under `functions/`, e.g. `plan.ts`; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Environment shared by every function (bucket names, workgroup, database, topic). */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * One Lambda function of the refresh with the defaults every one of them shares: Node.js 22 on
 * ARM64; an ESM bundle built by the local esbuild (never Docker) with source maps; its own log
 * group with a retention; active X-Ray tracing; and its own role, which may write only to that
 * log group until grants add more (no AWS managed policy).
 */
export function refreshFunction(scope: Construct, id: string, options: RefreshFunctionOptions): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: options.logRetention,
    removalPolicy: options.logRemovalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `cohort-refresh ${id} function`,
  });
  logGroup.grantWrite(role);
  return new nodejs.NodejsFunction(scope, id, {
    entry: `${PROJECT_ROOT}functions/${options.entry}`,
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
    description: options.description,
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    timeout: options.timeout,
    memorySize: options.memorySize,
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    tracing: lambda.Tracing.ACTIVE,
    environment: { ...options.environment, NODE_OPTIONS: '--enable-source-maps', ATHENA_MAX_WAIT_MS: String(athenaWait(options.timeout)) },
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      // The Node.js 22 runtime provides SDK v3; bundling it would only grow cold starts.
      externalModules: ['@aws-sdk/*'],
      // ESM bundles of CommonJS dependencies still call require().
      banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      forceDockerBundling: false,
    },
  });
}

/** How long a function waits for one Athena query: its timeout less a minute to report the timeout (at least 10 s). */
function athenaWait(timeout: Duration): number {
  return Math.max(10_000, timeout.toMilliseconds() - 60_000);
}

/** Sizes of the refresh's functions: Snapshot and Deliver hold one cohort's members in memory. */
export const FUNCTION_SIZES = {
  plan: { timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.Plan), memorySize: 1024 },
  tiles: { timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.Tiles), memorySize: 1024 },
  snapshot: { timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.Snapshot), memorySize: 2048 },
  deliver: { timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.Deliver), memorySize: 2048 },
  finish: { timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.Finish), memorySize: 512 },
  alertFailure: { timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS.AlertFailure), memorySize: 256 },
} as const;
