import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { arnOf, givenFoundation, refTo, templateOf } from './support.ts';

describe('CohortFoundation Athena workgroup', () => {
  it('enforces its configuration: engine 3, CloudWatch metrics, a 10 GiB cutoff, KMS-encrypted results', () => {
    // GIVEN
    const { stack, foundation } = givenFoundation();
    // WHEN
    const template = templateOf(stack);
    // THEN
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'cohort-refresh',
      State: 'ENABLED',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: Match.objectLike({
          OutputLocation: { 'Fn::Join': ['', ['s3://', refTo(foundation.athenaResultsBucket), '/results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: arnOf(foundation.encryptionKey) },
        }),
      }),
    });
  });

  it('cancels queries at the configured number of bytes scanned', () => {
    const { stack } = givenFoundation({ athenaBytesScannedCutoffPerQuery: 50_000_000 });

    templateOf(stack).hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 50_000_000 }),
    });
  });

  it('names the workgroup as configured', () => {
    const { stack, foundation } = givenFoundation({ workGroupName: 'cohorts-staging' });

    templateOf(stack).hasResourceProperties('AWS::Athena::WorkGroup', { Name: 'cohorts-staging' });
    expect(stack.resolve(foundation.queryWorkGroup.workGroupArn)).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':athena:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':workgroup/cohorts-staging',
        ],
      ],
    });
  });
});

describe('CohortFoundation alerts topic', () => {
  it('encrypts the topic with its own rotating KMS key', () => {
    const { stack, foundation } = givenFoundation();
    const template = templateOf(stack);

    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(foundation.alertsKey) });
    template.resourceCountIs('AWS::KMS::Key', 2);
    template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('denies publishing without TLS in the topic policy', () => {
    const { stack, foundation } = givenFoundation();

    templateOf(stack).hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [refTo(foundation.alertsTopic)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('subscribes each alert e-mail address once', () => {
    const emails = ['growth@example.com', 'data-platform@example.org'];
    const { stack, foundation } = givenFoundation({ alertEmails: emails });
    const template = templateOf(stack);

    template.resourceCountIs('AWS::SNS::Subscription', 2);
    for (const email of emails) {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: email,
        TopicArn: refTo(foundation.alertsTopic),
      });
    }
  });

  it('creates no subscription without alert e-mails', () => {
    const { stack } = givenFoundation();

    templateOf(stack).resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
