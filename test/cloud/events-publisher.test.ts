import { EventBridgeClient, PutEventsCommand, ThrottlingException } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../../shared/cloud/errors.ts';
import { EventPublishError, EventsPublisher } from '../../shared/cloud/events-publisher.ts';
import { type CohortEvent, cohortVersionEvent } from '../../shared/deliver/events.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import './support.ts';

const events = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'eu-central-1' });

const locations = {
  snapshot: 's3://snapshots-bucket/snapshots/cohort=power_users/version=7/',
  manifest: 's3://snapshots-bucket/snapshots/cohort=power_users/version=7/manifest.json',
  members: 's3://snapshots-bucket/snapshots/cohort=power_users/version=7/members.parquet',
};

const manifest = (status: Manifest['status']): Manifest => ({
  cohort: 'power_users',
  version: 7,
  as_of: '2024-07-01T00:00:00.000Z',
  created_at: '2024-07-01T00:05:00.000Z',
  status,
  trigger: 'schedule:monthly',
  rationale: null,
  size: 120,
  previous_version: 6,
  entered: 30,
  exited: 10,
  definition: { hash: 'abc', path: 'definitions/power_users.yaml', name: 'Power users', owner: 'growth', tier: 'core', cadence: 'monthly' },
  checks: [
    { name: 'min_size', status: 'pass', observed: 120, threshold: 50, message: 'ok' },
    { name: 'max_change_pct', status: status === 'held' ? 'fail' : 'warn', observed: 45, threshold: 30, message: 'changed 45%' },
  ],
  lineage: { engine: 'athena', query: 'SELECT 1', inputs: [], depends_on: [], run_id: 'run-42' },
  population: 1000,
});

const rejected = (path: string): CohortEvent => ({
  detailType: 'Definition Rejected',
  detail: {
    status: 'rejected',
    cohort: null,
    path,
    location: `s3://definitions-bucket/${path}`,
    errors: [`${path}:9:7: count.gte must be a non-negative integer, got "five"`],
    run_id: 'run-42',
  },
});

describe('the EventBridge publisher', () => {
  beforeEach(() => {
    events.reset();
  });

  it('puts a refreshed cohort with its counts, version, status and locations', async () => {
    // Prepare
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const publisher = new EventsPublisher(client, 'cohort-refresh-bus');

    // Act
    await publisher.publish([cohortVersionEvent(manifest('published'), locations)]);

    // Assess
    expect(events).toHaveReceivedCommandExactlyOnceWith(PutEventsCommand, {
      Entries: [
        {
          Source: 'cohort-refresh',
          DetailType: 'Cohort Refreshed',
          EventBusName: 'cohort-refresh-bus',
          Detail: JSON.stringify({
            cohort: 'power_users',
            version: 7,
            status: 'published',
            as_of: '2024-07-01T00:00:00.000Z',
            trigger: 'schedule:monthly',
            size: 120,
            entered: 30,
            exited: 10,
            previous_version: 6,
            warned_checks: ['max_change_pct'],
            failed_checks: [],
            run_id: 'run-42',
            locations,
          }),
        },
      ],
    });
  });

  it('puts a held version as Cohort Held on the default bus', async () => {
    // Prepare
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const publisher = new EventsPublisher(client);

    // Act
    await publisher.publish([cohortVersionEvent(manifest('held'), locations)]);

    // Assess
    const entry = events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry?.DetailType).toBe('Cohort Held');
    expect(entry).not.toHaveProperty('EventBusName');
    expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({ status: 'held', failed_checks: ['max_change_pct'], warned_checks: [] });
  });

  it('sends at most ten entries a call', async () => {
    // Prepare
    events
      .on(PutEventsCommand)
      .callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
    const publisher = new EventsPublisher(client);
    const batch = Array.from({ length: 23 }, (_, i) => rejected(`definitions/cohort_${i}.yaml`));

    // Act
    await publisher.publish(batch);

    // Assess
    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 3);
    const sizes = events.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length);
    expect(sizes).toEqual([10, 10, 3]);
    expect(events).toHaveReceivedNthCommandWith(PutEventsCommand, 3, {
      Entries: [rejected('definitions/cohort_20.yaml'), rejected('definitions/cohort_21.yaml'), rejected('definitions/cohort_22.yaml')].map(
        (e) => ({ Source: 'cohort-refresh', DetailType: 'Definition Rejected', Detail: JSON.stringify(e.detail) }),
      ),
    });
  });

  it('raises EventPublishError listing the refused entries, after trying every batch', async () => {
    // Prepare
    events
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 0, Entries: Array.from({ length: 10 }, () => ({ EventId: 'e' })) })
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'e' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      });
    const publisher = new EventsPublisher(client);
    const batch = Array.from({ length: 12 }, (_, i) => rejected(`definitions/cohort_${i}.yaml`));

    // Act
    const publishing = publisher.publish(batch);

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(EventPublishError);
    await expect(publishing).rejects.toMatchObject({
      name: 'EventPublishError',
      failures: [{ index: 11, detailType: 'Definition Rejected', errorCode: 'ThrottlingException', errorMessage: 'Rate exceeded' }],
      message: 'EventBridge refused 1 event(s): #11 Definition Rejected: ThrottlingException Rate exceeded',
    });
    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 2);
  });

  it('surfaces a throttled call as ThrottledError', async () => {
    // Prepare
    events.on(PutEventsCommand).rejects(new ThrottlingException({ $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }));
    const publisher = new EventsPublisher(client);

    // Act
    const publishing = publisher.publish([rejected('definitions/a_cohort.yaml')]);

    // Assess
    await expect(publishing).rejects.toBeInstanceOf(ThrottledError);
    await expect(publishing).rejects.toMatchObject({ operation: 'EventBridge.PutEvents' });
  });

  it('puts nothing for no events', async () => {
    // Prepare
    const publisher = new EventsPublisher(client);

    // Act
    await publisher.publish([]);

    // Assess
    expect(events).not.toHaveReceivedAnyCommand();
  });
});
