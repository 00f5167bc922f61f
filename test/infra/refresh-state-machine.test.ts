import { App, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CohortFoundation } from '../../infra/foundation/cohort-foundation.ts';
import { CohortRefreshStack } from '../../infra/cohort-refresh-stack.ts';
import { InvalidPropError } from '../../infra/common/validate-props.ts';
import { RefreshStateMachine, type RefreshStateMachineProps } from '../../infra/workflow/refresh-state-machine.ts';
import { arnOf, refTo, templateOf } from './support.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** GIVEN a stack holding the foundation and the refresh state machine (no bundling). */
function givenRefresh(props: Partial<RefreshStateMachineProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'TestStack');
  const foundation = new CohortFoundation(stack, 'CohortRefresh');
  const refresh = new RefreshStateMachine(stack, 'Refresh', { foundation, ...props });
  return { stack, foundation, refresh };
}

/** The statements of the policies attached to one role. */
function statementsOfRole(template: Template, role: IConstruct): Statement[] {
  // The inline policy and, when it passed IAM's size limit, the managed overflow policy CDK adds.
  const policies = ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
    Object.values(template.findResources(type, { Properties: { Roles: Match.arrayWith([refTo(role)]) } })),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => list(s.Action));

describe('RefreshStateMachine', () => {
  let given: ReturnType<typeof givenRefresh>;
  let template: Template;

  beforeAll(() => {
    given = givenRefresh();
    template = templateOf(given.stack);
  });

  /** The object key patterns of a bucket an action is granted on to a function's role. */
  const keysGranted = (fn: { role?: IConstruct }, action: string, bucket: IConstruct): string[] => {
    const arn = JSON.stringify(arnOf(bucket));
    return statementsOfRole(template, fn.role as IConstruct)
      .filter((s) => list(s.Action).includes(action))
      .flatMap((s) => list(s.Resource))
      .flatMap((resource) => {
        const parts = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1];
        return parts?.length === 2 && JSON.stringify(parts[0]) === arn && typeof parts[1] === 'string' ? [parts[1].replace(/^\//, '')] : [];
      });
  };

  it('keeps the key of erasure records in a generated, KMS-encrypted secret that only the functions erasing or screening people read', () => {
    // GIVEN / WHEN (shared stack) / THEN: the secret, encrypted with the data key
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: arnOf(given.foundation.encryptionKey),
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
    const secret = refTo(given.foundation.privacyKey);
    const reads = (role: IConstruct) =>
      statementsOfRole(template, role).some(
        (s) => list(s.Action).includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource) === JSON.stringify(secret),
      );
    const { plan, tiles, snapshot, deliver, finish, alertFailure } = given.refresh.functions;
    // Tiles screens the tiles it builds from the lake against the erasure records.
    expect([plan, tiles, snapshot, deliver, finish].map((fn) => reads(fn.role as IConstruct))).toEqual([true, true, true, true, true]);
    expect(reads(alertFailure.role as IConstruct)).toBe(false);
    expect(reads(given.refresh.role)).toBe(false);
    for (const fn of [plan, tiles, snapshot, deliver, finish]) {
      const resource = template.findResources('AWS::Lambda::Function')[given.stack.getLogicalId(fn.node.defaultChild as CfnElement)];
      expect(resource?.Properties.Environment.Variables.PRIVACY_KEY_SECRET_ARN).toEqual(secret);
    }
    // No key in the bucket any more: nothing may write privacy/salt but what writes privacy/*.
    expect(keysGranted(snapshot, 's3:PutObject', given.foundation.snapshotsBucket)).not.toContain('privacy/*');
  });

  it('is a STANDARD state machine that logs ALL events with execution data and traces with X-Ray', () => {
    // GIVEN / WHEN (shared stack) / THEN
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'cohort-refresh',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arnOf(given.refresh.logGroup) } }],
      },
      RoleArn: arnOf(given.refresh.role),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/cohort-refresh', RetentionInDays: 90 });
  });

  it('deploys six Node.js 22 functions on ARM64 with tracing, their own log group and the deployment names', () => {
    const functions = template.findResources('AWS::Lambda::Function');

    expect(Object.keys(functions)).toHaveLength(6);
    for (const [name, fn] of Object.entries(given.refresh.functions)) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
        Environment: {
          Variables: Match.objectLike({
            SNAPSHOTS_BUCKET: refTo(given.foundation.snapshotsBucket),
            DEFINITIONS_BUCKET: refTo(given.foundation.definitionsBucket),
            ATHENA_WORKGROUP: 'cohort-refresh',
            GLUE_DATABASE: 'cohort_refresh',
            ALERTS_TOPIC_ARN: refTo(given.foundation.alertsTopic),
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
      expect(fn.logGroup, name).toBeDefined();
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 90 }, 7);
  });

  it('tells each function how long it may wait for an Athena query: its timeout less a minute', () => {
    for (const [fn, wait] of [
      [given.refresh.functions.snapshot, '540000'],
      [given.refresh.functions.plan, '60000'],
      [given.refresh.functions.alertFailure, '10000'],
    ] as const) {
      const resource = template.findResources('AWS::Lambda::Function')[given.stack.getLogicalId(fn.node.defaultChild as CfnElement)];
      expect(resource?.Properties.Environment.Variables.ATHENA_MAX_WAIT_MS).toBe(wait);
    }
  });

  it('runs the state machine as a role without the Athena task defaults: no S3 on "*", no Glue writes but CTAS', () => {
    const statements = statementsOfRole(template, given.refresh.role);
    const actions = actionsOf(statements);

    expect(actions).not.toContain('s3:CreateBucket');
    expect(actions).not.toContain('lakeformation:GetDataAccess');
    expect(actions).not.toContain('glue:DeleteDatabase');
    expect(actions).not.toContain('glue:DeleteTable');
    expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'glue:CreateTable', 'lambda:InvokeFunction']));
    for (const statement of statements.filter((s) => list(s.Resource).includes('*'))) {
      for (const action of list(statement.Action)) expect(action).toMatch(/^(xray|logs):/);
    }
    const invoke = statements.find((s) => list(s.Action).includes('lambda:InvokeFunction'));
    expect(list(invoke?.Resource)).toHaveLength(6);
    const ctas = statements.find((s) => list(s.Action).includes('glue:CreateTable'));
    expect(JSON.stringify(ctas?.Resource)).toContain(':table/cohort_refresh/evaluation_*');
  });

  it('lets the state machine (the Evaluate query) read the tiles under tiles/ but never write them', () => {
    const snapshots = given.foundation.snapshotsBucket;
    const role = { role: given.refresh.role };

    expect(keysGranted(role, 's3:GetObject', snapshots)).toContain('tiles/*');
    expect(keysGranted(role, 's3:PutObject', snapshots)).toEqual([]);
    expect(keysGranted(role, 's3:DeleteObject', snapshots)).toEqual([]);
    const tables = statementsOfRole(template, given.refresh.role).filter((s) => list(s.Action).includes('glue:GetPartitions'));
    expect(JSON.stringify(tables.map((s) => s.Resource))).toContain('cohort_refresh/tiles_contested');
  });

  it('never allows a wildcard action', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );

    for (const action of actionsOf(statements)) expect(action).not.toContain('*');
  });

  it('gives each function what its step does: Snapshot (and Plan, for erasure) write snapshots, only Finish and AlertFailure alert', () => {
    const { plan, tiles, snapshot, deliver, finish, alertFailure } = given.refresh.functions;
    const actionsOfFn = (fn: { role?: IConstruct }) => actionsOf(statementsOfRole(template, fn.role as IConstruct));
    const { definitionsBucket, snapshotsBucket, exportsBucket } = given.foundation;

    expect(actionsOfFn(snapshot)).toContain('s3:PutObject');
    expect(keysGranted(snapshot, 's3:PutObject', snapshotsBucket)).toEqual(['snapshots/*']);
    expect(actionsOfFn(plan)).toContain('s3:GetObject');
    // Plan writes the catalog of accepted definitions and its audit trail (definitions bucket,
    // catalog/), and carries out deletion requests: privacy data, versions, exports, tiles and
    // the uploaded lists (lists/ of the definitions bucket); and keeps the source checks' parts.
    expect(keysGranted(plan, 's3:PutObject', definitionsBucket).sort()).toEqual(['catalog/*', 'lists/*']);
    expect(keysGranted(plan, 's3:PutObject', snapshotsBucket).sort()).toEqual([
      'checks/identity-keys/*',
      'checks/parts/*',
      'privacy/*',
      'snapshots/*',
      'tiles/*',
    ]);
    expect(keysGranted(plan, 's3:PutObject', exportsBucket)).toEqual(['*']);
    for (const fn of [finish, alertFailure]) {
      expect(actionsOfFn(fn)).toEqual(expect.arrayContaining(['sns:Publish', 'glue:DeleteTable']));
    }
    for (const fn of [plan, snapshot, deliver]) expect(actionsOfFn(fn)).not.toContain('sns:Publish');
    // Releasing an evaluation deletes its files, and only those: nothing else of any bucket is ever deleted.
    for (const fn of [finish, alertFailure]) {
      const deletes = statementsOfRole(template, fn.role as IConstruct).filter((s) => list(s.Action).includes('s3:DeleteObject'));
      expect(deletes.map((s) => list(s.Action))).toEqual([['s3:DeleteObject']]);
      expect(JSON.stringify(deletes[0]?.Resource)).toContain('/results/tables/*');
      expect(JSON.stringify(deletes[0]?.Resource)).toContain(
        given.stack.resolve(given.foundation.athenaResultsBucket.bucketArn)['Fn::GetAtt'][0],
      );
    }
    expect(actionsOfFn(deliver)).not.toContain('s3:DeleteObject');
    // Plan deletes only tile files (an erased day's old files), the source checks' parts the
    // window moved past and the identity keys of an older map, never a version or an export.
    const planStatements = statementsOfRole(template, plan.role as IConstruct);
    const planDeletes = planStatements.filter((s) => list(s.Action).includes('s3:DeleteObject'));
    const partsArn = { 'Fn::Join': ['', [given.stack.resolve(snapshotsBucket.bucketArn), '/checks/parts/*']] };
    const keysArn = { 'Fn::Join': ['', [given.stack.resolve(snapshotsBucket.bucketArn), '/checks/identity-keys/*']] };
    expect(planDeletes.flatMap((s) => list(s.Resource))).toEqual([
      { 'Fn::Join': ['', [given.stack.resolve(snapshotsBucket.bucketArn), '/tiles/*']] },
      partsArn,
      keysArn,
    ]);
    // ...and reads and writes those parts and keys; no other function touches them, nor the keys' table.
    for (const action of ['s3:GetObject', 's3:PutObject'])
      for (const arn of [partsArn, keysArn])
        expect(planStatements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource))).toContainEqual(arn);
    expect(JSON.stringify(planStatements)).toContain('/identity_keys');
    for (const fn of [tiles, snapshot, deliver, finish]) {
      const granted = JSON.stringify(statementsOfRole(template, fn.role as IConstruct));
      for (const part of ['/checks/parts/', '/checks/identity-keys/', '/identity_keys']) expect(granted).not.toContain(part);
    }
    // Snapshot deletes its members query's result file once read: under results/ of the results bucket only.
    const snapshotDeletes = statementsOfRole(template, snapshot.role as IConstruct).filter((s) =>
      list(s.Action).includes('s3:DeleteObject'),
    );
    expect(snapshotDeletes.map((s) => list(s.Action))).toEqual([['s3:DeleteObject']]);
    expect(snapshotDeletes.flatMap((s) => list(s.Resource))).toEqual([
      { 'Fn::Join': ['', [given.stack.resolve(given.foundation.athenaResultsBucket.bucketArn), '/results/*']] },
    ]);
    expect(actionsOfFn(snapshot)).toEqual(expect.arrayContaining(['athena:GetQueryRuntimeStatistics', 'glue:GetTable']));
    for (const fn of [plan, snapshot, deliver, finish, alertFailure]) {
      expect(actionsOfFn(fn)).toEqual(expect.arrayContaining(['logs:CreateLogStream', 'logs:PutLogEvents']));
    }
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('grants the privacy data by step: Plan reads and writes privacy/*, Tiles, Snapshot, Deliver and Finish read it, Finish reads the exports', () => {
    const { plan, tiles, snapshot, deliver, finish, alertFailure } = given.refresh.functions;
    const { snapshotsBucket, exportsBucket } = given.foundation;

    for (const fn of [plan, tiles, snapshot, deliver, finish])
      expect(keysGranted(fn, 's3:GetObject', snapshotsBucket)).toContain('privacy/*');
    for (const fn of [tiles, snapshot, deliver, finish, alertFailure])
      expect(keysGranted(fn, 's3:PutObject', snapshotsBucket)).not.toContain('privacy/*');
    expect(keysGranted(alertFailure, 's3:GetObject', snapshotsBucket)).not.toContain('privacy/*');
    for (const fn of [plan, finish]) expect(keysGranted(fn, 's3:GetObject', exportsBucket)).toEqual(['*']);
    expect(keysGranted(finish, 's3:PutObject', exportsBucket)).toEqual([]);
    for (const fn of [plan, finish]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: arnOf(fn.role as IConstruct),
        Environment: { Variables: Match.objectLike({ EXPORTS_BUCKET: refTo(exportsBucket) }) },
      });
    }
  });

  it('lets only Deliver (and Plan, for erasure) write exports, only Deliver and Plan put events, on the default bus, and never write snapshots', () => {
    const statementsOfFn = (fn: { role?: IConstruct }) => statementsOfRole(template, fn.role as IConstruct);
    const { deliver, plan, ...others } = given.refresh.functions;
    const deliverStatements = statementsOfFn(deliver);
    const writes = deliverStatements.filter((s) => list(s.Action).includes('s3:PutObject'));

    expect(JSON.stringify(writes)).toContain(refTo(given.foundation.exportsBucket).Ref);
    expect(JSON.stringify(writes)).not.toContain(refTo(given.foundation.snapshotsBucket).Ref);
    const putEvents = expect.objectContaining({
      Action: 'events:PutEvents',
      Effect: 'Allow',
      Resource: {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default'],
        ],
      },
    });
    expect(deliverStatements).toContainEqual(putEvents);
    // Plan announces the definition versions it accepts (Definition Accepted).
    expect(statementsOfFn(plan)).toContainEqual(putEvents);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EXPORTS_BUCKET: refTo(given.foundation.exportsBucket), EVENT_BUS_NAME: 'default' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'cohort-refresh Plan: select, compile, assign versions',
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: 'default' }) },
    });
    for (const fn of Object.values(others)) expect(actionsOf(statementsOfFn(fn))).not.toContain('events:PutEvents');
    for (const fn of Object.values(others)) {
      expect(JSON.stringify(statementsOfFn(fn).filter((s) => list(s.Action).includes('s3:PutObject')))).not.toContain(
        refTo(given.foundation.exportsBucket).Ref,
      );
    }
  });

  it('alarms on failed, timed-out, throttled and aborted executions into the alerts topic', () => {
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/States',
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [refTo(given.foundation.alertsTopic)],
      });
    }
  });

  it('lets CloudWatch alarms of this account publish to the encrypted alerts topic', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'AllowCloudWatchAlarms', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
        ]),
      },
    });
  });

  it('reports no unacknowledged cdk-nag AwsSolutions violation, and every acknowledgement has a reason', () => {
    const report = new AwsSolutionsChecks().validateScope(given.stack);
    const acknowledgements = given.refresh.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

    expect(report.violations).toEqual([]);
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) {
      expect(id).toMatch(/^(Annotation::)?AwsSolutions-(IAM5\[Resource::|L1$)/);
      expect(reason.length).toBeGreaterThan(30);
    }
  });

  it('stays cdk-nag clean with the feature flags of cdk.json, which merge policy statements', () => {
    // GIVEN
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], '@aws-cdk/aws-iam:minimizePolicies': true } });
    // WHEN
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', {
      config: { alertEmails: ['growth@example.com'], lakeBucketName: 'company-lake' },
    });
    // THEN
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it('is part of the deployable stack, exposed as stateMachine, with its ARN as an output', () => {
    // GIVEN
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    // WHEN
    const stack = new CohortRefreshStack(app, 'CohortRefreshStack', { config: { alertEmails: [] } });
    // THEN
    expect(stack.cohortRefresh.stateMachine).toBe(stack.cohortRefresh.refresh.stateMachine);
    expect(stack.resolve(stack.cohortRefresh.stateMachine.stateMachineArn)).toEqual({ Ref: expect.stringMatching(/^RefreshStateMachine/) });
    templateOf(stack).hasOutput('StateMachineArn', { Value: stack.resolve(stack.cohortRefresh.stateMachine.stateMachineArn) });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  it.each<[string, Partial<RefreshStateMachineProps>, string]>([
    ['a name with a space', { stateMachineName: 'cohort refresh' }, '"cohort refresh"'],
    ['no snapshot concurrency', { snapshotConcurrency: 0 }, 'got 0'],
    ['an evaluation as long as the execution', { evaluationTimeout: Duration.hours(2) }, 'must be shorter than timeout'],
    ['a timeout in milliseconds', { timeout: Duration.millis(1500) }, '1 second 500 millis'],
    ['a timeout as long as the kept keys stay', { timeout: Duration.hours(24) }, 'must be shorter than 24 hours'],
  ])('rejects %s and shows the value', (_, props, shown) => {
    // GIVEN / WHEN
    const create = () => givenRefresh(props);
    // THEN
    expect(create).toThrow(InvalidPropError);
    expect(create).toThrow(shown);
  });
});
