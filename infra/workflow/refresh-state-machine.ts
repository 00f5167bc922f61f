import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deploymentEnvironment, type EnvironmentValues, SERVICE_NAME } from '../../shared/cloud/environment.ts';
import { METRICS_NAMESPACE } from '../../shared/workflow/run-metrics.ts';
import type { CohortFoundation } from '../foundation/cohort-foundation.ts';
import {
  validateConcurrency,
  validateEvaluationTimeout,
  validateTimeoutWithinGrace,
  validateStateMachineName,
  validateWholeSeconds,
} from '../common/validate-props.ts';
import { type RefreshAlarms, refreshAlarms } from './refresh-alarms.ts';
import { refreshDefinition } from './refresh-definition.ts';
import { acknowledgePinnedRuntime, acknowledgeWildcardResources, WILDCARD_REASONS } from '../common/nag-acknowledgements.ts';
import { FUNCTION_SIZES, refreshFunction } from '../common/refresh-function.ts';

/** Properties of {@link RefreshStateMachine}. */
export interface RefreshStateMachineProps {
  /** The foundation the refresh runs on: buckets, Glue catalog, Athena workgroup, alerts topic and their grants. */
  readonly foundation: CohortFoundation;

  /**
   * Name of the state machine; its log group is `/aws/vendedlogs/states/<name>`. Unique per
   * account and region: 1 to 80 letters, digits, `-` and `_`.
   *
   * @default 'cohort-refresh'
   */
  readonly stateMachineName?: string;

  /**
   * How many Snapshot iterations run at once. Each reads its cohort from the evaluation table
   * with one Athena query, so this bounds the refresh's share of the account's Athena concurrency.
   * 1 to 40.
   *
   * @default 4
   */
  readonly snapshotConcurrency?: number;

  /**
   * How many Deliver iterations (exports and events of one cohort) run at once. 1 to 40.
   *
   * @default 8
   */
  readonly deliveryConcurrency?: number;

  /**
   * The bus `Cohort Refreshed` and `Cohort Held` events go to (source `cohort-refresh`).
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;

  /**
   * Longest an execution may run; a timed-out execution skips every Catch, so the timed-out
   * alarm is what reports it. Whole seconds, longer than `evaluationTimeout`, shorter than the
   * 24 hours the kept identity keys of a replaced version stay (`KEPT_KEYS_GRACE_MS`).
   *
   * @default Duration.hours(2)
   */
  readonly timeout?: Duration;

  /**
   * Longest the Evaluate query may run before the task fails (and the run is alerted). Whole seconds.
   *
   * @default Duration.hours(1)
   */
  readonly evaluationTimeout?: Duration;

  /**
   * What the state machine logs. ALL (with execution data) by default: state inputs and outputs
   * carry plans, SQL, cohort ids and counts, never a member, and they are what explains a failed
   * run. ERROR halves the log volume but loses the inputs that led to a failure.
   *
   * @default sfn.LogLevel.ALL
   */
  readonly logLevel?: sfn.LogLevel;

  /**
   * How long the state machine's and the functions' logs are kept.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the log groups when they leave the stack. DESTROY by default: logs are
   * operational, snapshots and manifests are the audit trail, and a retained log group with the
   * state machine's fixed name would block re-creating the stack.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The refresh state machine (Step Functions STANDARD, JSONPath): Plan, Evaluate on Athena,
 * Snapshot per cohort, Deliver (exports and events) per outcome, Finish; every failure is caught,
 * alerted and ends the execution failed.
 * Ships its six Lambda functions, its log group, X-Ray tracing, and alarms on failed, timed-out,
 * throttled and aborted executions published to the alerts topic. Every role gets only what its
 * step needs, through the foundation's grant helpers.
 */
export class RefreshStateMachine extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Its execution log group, `/aws/vendedlogs/states/<name>`. */
  public readonly logGroup: logs.LogGroup;
  /** The role the state machine (and so the Athena query) runs as. */
  public readonly role: iam.Role;
  /** The Lambda function of each Lambda state. */
  public readonly functions: {
    readonly plan: lambda.Function;
    readonly tiles: lambda.Function;
    readonly snapshot: lambda.Function;
    readonly deliver: lambda.Function;
    readonly finish: lambda.Function;
    readonly alertFailure: lambda.Function;
  };
  /** Alarms on failed, timed-out, throttled and aborted executions. */
  public readonly alarms: RefreshAlarms;
  /** The bus the Deliver step publishes cohort events to. */
  public readonly eventBus: events.IEventBus;
  /**
   * Where the functions publish their metrics (shared/workflow/run-metrics.ts): the namespace, and
   * the `service` dimension, which is the state machine's name so two deployments never mix.
   */
  public readonly metricsTarget: { readonly namespace: string; readonly service: string };

  constructor(scope: Construct, id: string, props: RefreshStateMachineProps) {
    super(scope, id);
    const cr = props.foundation;
    const name = props.stateMachineName ?? SERVICE_NAME;
    const snapshotConcurrency = props.snapshotConcurrency ?? 4;
    const deliveryConcurrency = props.deliveryConcurrency ?? 8;
    const timeout = props.timeout ?? Duration.hours(2);
    const evaluationTimeout = props.evaluationTimeout ?? Duration.hours(1);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const logRemovalPolicy = props.logRemovalPolicy ?? RemovalPolicy.DESTROY;
    validateStateMachineName(name);
    validateConcurrency('snapshotConcurrency', snapshotConcurrency);
    validateWholeSeconds('timeout', timeout);
    validateWholeSeconds('evaluationTimeout', evaluationTimeout);
    validateEvaluationTimeout(evaluationTimeout, timeout);
    validateTimeoutWithinGrace(timeout);
    validateConcurrency('deliveryConcurrency', deliveryConcurrency);
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.metricsTarget = { namespace: METRICS_NAMESPACE, service: name };

    const shared: EnvironmentValues = {
      DEFINITIONS_BUCKET: cr.definitionsBucket.bucketName,
      SNAPSHOTS_BUCKET: cr.snapshotsBucket.bucketName,
      EVENT_LAKE_BUCKET: cr.eventLakeBucket.bucketName,
      EVENT_LAKE_PREFIX: cr.eventLakePrefix,
      ATHENA_RESULTS_BUCKET: cr.athenaResultsBucket.bucketName,
      ATHENA_WORKGROUP: cr.queryWorkGroup.workGroupName,
      GLUE_DATABASE: cr.catalog.databaseName,
      ALERTS_TOPIC_ARN: cr.alertsTopic.topicArn,
      ...(cr.alertsFormat === 'chatbot' ? { ALERTS_FORMAT: cr.alertsFormat } : {}),
    };
    const service = { name: this.metricsTarget.service, metricsNamespace: this.metricsTarget.namespace };
    // The functions that erase or screen people read the key of erasure records.
    const privacyKey = { PRIVACY_KEY_SECRET_ARN: cr.privacyKey.secretArn };
    const fn = (
      fid: string,
      entry: string,
      description: string,
      size: { timeout: Duration; memorySize: number },
      extra: EnvironmentValues = {},
    ) =>
      refreshFunction(this, fid, {
        entry,
        description,
        environment: deploymentEnvironment(service, { ...shared, ...extra }),
        ...size,
        logRetention,
        logRemovalPolicy,
      });
    this.functions = {
      // Plan carries out deletion requests (erasure rewrites exports too) and announces the definition versions it accepts.
      plan: fn('PlanFunction', 'plan.ts', 'cohort-refresh Plan: select, compile, assign versions', FUNCTION_SIZES.plan, {
        // Built from the name, not referenced: the state machine refers to this function.
        STATE_MACHINE_ARN: this.stateMachineArnOf(name, 'stateMachine'),
        EXPORTS_BUCKET: cr.exportsBucket.bucketName,
        EVENT_BUS_NAME: this.eventBus.eventBusName,
        ...privacyKey,
      }),
      tiles: fn(
        'TilesFunction',
        'tiles.ts',
        'cohort-refresh Tiles: build missing and stale tiles, compile the tiled query',
        FUNCTION_SIZES.tiles,
        // It leaves forgotten people out of the tiles it builds: the erasure records' key.
        privacyKey,
      ),
      snapshot: fn(
        'SnapshotFunction',
        'snapshot.ts',
        'cohort-refresh Snapshot: check, write and publish one cohort',
        FUNCTION_SIZES.snapshot,
        privacyKey,
      ),
      deliver: fn(
        'DeliverFunction',
        'deliver.ts',
        'cohort-refresh Deliver: export one published version, publish its event',
        FUNCTION_SIZES.deliver,
        {
          EXPORTS_BUCKET: cr.exportsBucket.bucketName,
          EVENT_BUS_NAME: this.eventBus.eventBusName,
          ...privacyKey,
        },
      ),
      finish: fn(
        'FinishFunction',
        'finish.ts',
        'cohort-refresh Finish: summary, release, one alert; ReleaseTiles: the tile store lease back',
        FUNCTION_SIZES.finish,
        {
          EXPORTS_BUCKET: cr.exportsBucket.bucketName,
          ...privacyKey,
        },
      ),
      alertFailure: fn(
        'AlertFailureFunction',
        'alert-failure.ts',
        'cohort-refresh AlertFailure: error alert naming the step',
        FUNCTION_SIZES.alertFailure,
      ),
    };
    this.grantSteps(cr, name);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${name}`,
      retention: logRetention,
      removalPolicy: logRemovalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `cohort-refresh state machine ${name}`,
    });
    this.grantStateMachine(cr);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      definitionBody: sfn.DefinitionBody.fromChainable(
        refreshDefinition(this, {
          functions: this.functions,
          workGroupName: cr.queryWorkGroup.workGroupName,
          databaseName: cr.catalog.databaseName,
          snapshotConcurrency,
          deliveryConcurrency,
          evaluationTimeout,
        }),
      ),
      timeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: props.logLevel ?? sfn.LogLevel.ALL, includeExecutionData: true },
      // The task constructs would add their default policies here: for Athena, s3:CreateBucket and
      // s3:GetObject on "*" and write access to every table of the database. The role is passed
      // without policy updates, so it holds exactly what grantStateMachine gives it.
      role: this.role.withoutPolicyUpdates(),
    });

    this.alarms = refreshAlarms(this, this.stateMachine, { topic: cr.alertsTopic, key: cr.alertsKey });

    for (const role of [this.role, ...Object.values(this.functions).map((f) => f.role as iam.Role)]) {
      acknowledgeWildcardResources(role, WILDCARD_REASONS);
    }
    for (const f of Object.values(this.functions)) acknowledgePinnedRuntime(f);
  }

  /** The ARN of this state machine (`stateMachine`) or of its executions' (`execution`, name then `:<run id>`), from its name. */
  private stateMachineArnOf(name: string, resource: 'stateMachine' | 'execution'): string {
    return Stack.of(this).formatArn({ service: 'states', resource, resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  /** Each function gets what its step does, no more. */
  private grantSteps(cr: CohortFoundation, name: string): void {
    const { plan, tiles, snapshot, deliver, finish, alertFailure } = this.functions;
    // Plan lists the running executions and reads their input (the cadence): runs of one cadence never overlap.
    plan.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [this.stateMachineArnOf(name, 'stateMachine')] }),
    );
    plan.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: [`${this.stateMachineArnOf(name, 'execution')}:*`] }),
    );
    // Plan reads the catalog, the lake's layout (tables, partitions for lineage) and existing versions.
    cr.grantReadDefinitions(plan);
    // ...and records the definitions it accepts, refuses or keeps waiting (catalog/ of that bucket).
    cr.grantWriteDefinitionCatalog(plan);
    // ...and announces the definition versions it accepts (Definition Accepted).
    this.eventBus.grantPutEventsTo(plan);
    cr.grantQueryLake(plan);
    // ...and writes the manifests the lake tables read for its run (lake-files/ of the results bucket).
    cr.grantWriteLakeFiles(plan);
    // ...and carries out deletion requests: the salt (generated once), erasure records, processed
    // requests; versions rewritten in place and erasure versions published; exports rewritten.
    cr.grantWritePrivacy(plan);
    cr.grantReadPrivacyKey(plan);
    // ...and the uploaded lists, rewritten without the person (lists/ of the definitions bucket).
    cr.grantWriteLists(plan);
    cr.grantWriteSnapshots(plan);
    cr.grantReadExports(plan);
    cr.grantWriteExports(plan);
    // ...and rewrites the tile days and contested copies holding a forgotten person's keys.
    cr.grantWriteTiles(plan);
    // ...and keeps the source checks' parts by partition (checks/parts/: counts and event digests).
    cr.grantSourceCheckParts(plan);
    // Tiles reads the definitions Plan planned (the kept ones under catalog/ too) and the lake
    // (its listing's manifests), compiles the tiled query and, in verify mode, evaluates it and
    // the full query, reads their members and drops them.
    cr.grantReadDefinitions(tiles);
    cr.grantQueryLake(tiles);
    cr.grantWriteLakeFiles(tiles);
    for (const access of ['create', 'read', 'drop'] as const) cr.grantEvaluationTables(tiles, access);
    cr.grantDeleteQueryResults(tiles);
    cr.grantQueryStatistics(tiles);
    // ...and builds the missing and stale tiles (INSERT INTO the tile tables, files under tiles/).
    cr.grantWriteTiles(tiles);
    // ...and leaves forgotten people out of the tiles it builds (erasure records and their key).
    cr.grantReadPrivacy(tiles);
    cr.grantReadPrivacyKey(tiles);
    // Snapshot reads its cohort from the evaluation table and writes and publishes a version
    // without the suppressed and forgotten people.
    cr.grantQueryLake(snapshot);
    cr.grantWriteSnapshots(snapshot);
    cr.grantReadPrivacy(snapshot);
    cr.grantReadPrivacyKey(snapshot);
    cr.grantEvaluationTables(snapshot, 'read');
    // ...and deletes its members query's result file (person ids) once read.
    cr.grantDeleteQueryResults(snapshot);
    cr.grantQueryStatistics(snapshot);
    // Deliver reads a version and the one before it, screens and writes its exports and announces it.
    cr.grantReadSnapshots(deliver);
    cr.grantReadPrivacy(deliver);
    cr.grantReadPrivacyKey(deliver);
    cr.grantWriteExports(deliver);
    this.eventBus.grantPutEventsTo(deliver);
    // Finish runs the privacy check over the versions and exports of the run.
    cr.grantReadPrivacy(finish);
    cr.grantReadPrivacyKey(finish);
    // ...and the uploaded lists, for a forgotten person left in one.
    cr.grantReadLists(finish);
    cr.grantReadExports(finish);
    // Finish and AlertFailure release the evaluation table and alert.
    for (const releasing of [finish, alertFailure]) {
      cr.grantQueryLake(releasing);
      cr.grantEvaluationTables(releasing, 'drop');
      cr.grantQueryStatistics(releasing);
      cr.grantPublishAlerts(releasing);
      // ...and give back the tile store's lease Plan took.
      cr.grantTileLease(releasing);
    }
  }

  /** The state machine runs the Evaluate query as itself, invokes the functions, logs and traces. */
  private grantStateMachine(cr: CohortFoundation): void {
    cr.grantQueryLake(this.role);
    // A tiled query reads the daily tiles beside the lake; a rule may read uploaded lists.
    cr.grantReadTiles(this.role);
    cr.grantReadLists(this.role);
    cr.grantEvaluationTables(this.role, 'create');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['athena:GetDataCatalog'],
        resources: [Stack.of(this).formatArn({ service: 'athena', resource: 'datacatalog', resourceName: 'AwsDataCatalog' })],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: Object.values(this.functions).map((f) => f.functionArn),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        // Log delivery has no resource-level permissions (acknowledged in WILDCARD_REASONS).
        resources: ['*'],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
        // X-Ray has no resource-level permissions (acknowledged in WILDCARD_REASONS).
        resources: ['*'],
      }),
    );
  }
}
