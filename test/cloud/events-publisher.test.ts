import { EventBridgeClient, PutEventsCommand, ThrottlingException } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../../shared/cloud/errors.ts';
import { EventPublishError, EventsPublisher, MAX_CALL_BYTES } from '../../shared/cloud/events-publisher.ts';
import { memberEvents } from '../../shared/deliver/member-events.ts';
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

const exportsAt = {
  folder: 's3://exports-bucket/exports/cohort=power_users/version=7/',
  members_csv: 's3://exports-bucket/exports/cohort=power_users/version=7/members.csv',
  entered_csv: 's3://exports-bucket/exports/cohort=power_users/version=7/entered.csv',
  exited_csv: 's3://exports-bucket/exports/cohort=power_users/version=7/exited.csv',
  members_parquet: 's3://exports-bucket/exports/cohort=power_users/version=7/members.parquet',
  entered_parquet: 's3://exports-bucket/exports/cohort=power_users/version=7/entered.parquet',
  exited_parquet: 's3://exports-bucket/exports/cohort=power_users/version=7/exited.parquet',
  latest: 's3://exports-bucket/exports/cohort=power_users/latest.json',
};

/** Who moved in power_users v7 (lists set per test). */
const moves = {
  cohort: 'power_users',
  version: 7,
  asOf: '2024-07-01T00:00:00.000Z',
  runId: 'run-42',
  entered: [] as string[],
  exited: [] as string[],
  exports: exportsAt,
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

  it('puts refused entries again, alone, and raises EventPublishError for those refused on every attempt, after trying every batch', async () => {
    // Prepare: the second batch's last entry is throttled on every call
    events.on(PutEventsCommand).callsFake((input: { Entries: { Detail: string }[] }) => {
      const refused = (e: { Detail: string }) => e.Detail.includes('cohort_11.yaml');
      const results = input.Entries.map((e) =>
        refused(e) ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : { EventId: 'e' },
      );
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    });
    const publisher = new EventsPublisher(client, undefined, { attempts: 2, baseDelayMs: 0 });
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
    // 10, then 2, then the refused one twice more
    expect(events.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([10, 2, 1, 1]);
  });

  it('puts an entry refused once again and succeeds, so every member event gets through', async () => {
    // Prepare: 25 people entered; the first call refuses the third entry once
    let calls = 0;
    events.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => {
      calls += 1;
      const results = input.Entries.map((_, i) =>
        calls === 1 && i === 2 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' } : { EventId: 'e' },
      );
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    });
    const publisher = new EventsPublisher(client, undefined, { baseDelayMs: 0 });
    const people = Array.from({ length: 25 }, (_, i) => `person-${String(i).padStart(2, '0')}`);

    // Act
    await publisher.publish(memberEvents({ ...moves, entered: people }, 1000));

    // Assess: 10 (one refused), its retry alone, then 10 and 5
    const sent = events.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
    expect(sent.map((entries) => entries.length)).toEqual([10, 1, 10, 5]);
    expect(JSON.parse(sent[1]?.[0]?.Detail ?? '{}')).toMatchObject({ person_id: 'person-02' });
    const put = new Set(sent.flat().map((entry) => JSON.parse(entry.Detail ?? '{}').person_id));
    expect([...put].sort()).toEqual(people);
    expect(sent.flat().every((entry) => entry.DetailType === 'Cohort Entered' && entry.Source === 'cohort-refresh')).toBe(true);
  });

  it('puts 25 member events in 3 calls, and a version past the limit as one event naming the files', async () => {
    // Prepare
    events
      .on(PutEventsCommand)
      .callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
    const publisher = new EventsPublisher(client);
    const entered = Array.from({ length: 20 }, (_, i) => `in-${i}`);
    const exited = Array.from({ length: 5 }, (_, i) => `out-${i}`);

    // Act
    await publisher.publish(memberEvents({ ...moves, entered, exited }, 25));
    await publisher.publish(memberEvents({ ...moves, entered, exited }, 24));

    // Assess
    const sent = events.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
    expect(sent.map((entries) => entries.length)).toEqual([10, 10, 5, 1]);
    expect(sent[2]?.map((entry) => entry.DetailType)).toEqual(Array(5).fill('Cohort Exited'));
    expect(sent[3]?.[0]?.DetailType).toBe('Cohort Members Changed');
    expect(JSON.parse(sent[3]?.[0]?.Detail ?? '{}')).toEqual({
      cohort: 'power_users',
      version: 7,
      as_of: '2024-07-01T00:00:00.000Z',
      run_id: 'run-42',
      entered: 20,
      exited: 5,
      member_events_max: 24,
      locations: {
        folder: exportsAt.folder,
        entered_csv: exportsAt.entered_csv,
        exited_csv: exportsAt.exited_csv,
        entered_parquet: exportsAt.entered_parquet,
        exited_parquet: exportsAt.exited_parquet,
      },
    });
  });

  it('keeps every call under 256 KB of entries', async () => {
    // Prepare: entries of about 120 KB each (the path is in the detail three times)
    events
      .on(PutEventsCommand)
      .callsFake((input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) }));
    const publisher = new EventsPublisher(client);
    const big = Array.from({ length: 5 }, (_, i) => rejected(`definitions/${String(i).repeat(40_000)}.yaml`));

    // Act
    await publisher.publish(big);

    // Assess
    const sent = events.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
    expect(sent.map((entries) => entries.length)).toEqual([2, 2, 1]);
    for (const entries of sent) {
      const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(`${e.Source}${e.DetailType}${e.Detail}`), 0);
      expect(bytes).toBeLessThanOrEqual(MAX_CALL_BYTES);
    }
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
