import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import type { CohortFoundationProps } from '../../infra/foundation/cohort-foundation.ts';
import { InvalidPropError } from '../../infra/common/validate-props.ts';
import { givenFoundation } from './support.ts';

describe('CohortFoundation prop validation', () => {
  it.each<[string, CohortFoundationProps, string]>([
    ['a lake prefix with a leading slash', { eventLakePrefix: '/lake/' }, '"/lake/"'],
    ['a lake prefix without a trailing slash', { eventLakePrefix: 'lake' }, '"lake"'],
    ['a lake prefix with a wildcard', { eventLakePrefix: 'la*ke/' }, '"la*ke/"'],
    ['an alert address that is not an e-mail address', { alertEmails: ['growth-team'] }, '"growth-team"'],
    ['an alert address listed twice', { alertEmails: ['a@example.com', 'A@example.com'] }, '"A@example.com"'],
    ['a retention of a day and a half', { noncurrentVersionRetention: Duration.hours(36) }, '1 day 12 hours'],
    ['a retention of zero days', { athenaResultsRetention: Duration.days(0) }, '0 days'],
    ['an access log retention in minutes', { accessLogsRetention: Duration.minutes(90) }, '1 hour 30 minutes'],
    ['a cutoff below the Athena minimum', { athenaBytesScannedCutoffPerQuery: 1_000_000 }, '1000000'],
    ['a fractional cutoff', { athenaBytesScannedCutoffPerQuery: 20_000_000.5 }, '20000000.5'],
    ['a database name with capitals and dashes', { databaseName: 'Cohort-Refresh' }, '"Cohort-Refresh"'],
    ['a workgroup name with a space', { workGroupName: 'cohort refresh' }, '"cohort refresh"'],
    ['a SNAPSHOT removal policy', { removalPolicy: RemovalPolicy.SNAPSHOT }, '"snapshot"'],
  ])('rejects %s and shows the value', (_, props, shown) => {
    // GIVEN / WHEN
    const create = () => givenFoundation(props);
    // THEN
    expect(create).toThrow(InvalidPropError);
    expect(create).toThrow(shown);
  });

  it('names the prop in the message', () => {
    expect(() => givenFoundation({ eventLakePrefix: 'lake' })).toThrow(/^eventLakePrefix /);
    expect(() => givenFoundation({ athenaResultsRetention: Duration.days(0) })).toThrow(/^athenaResultsRetention /);
  });

  it('accepts a nested lake prefix, whole-day retentions and the smallest cutoff', () => {
    expect(() =>
      givenFoundation({
        eventLakePrefix: 'raw/cohort-refresh_v1/',
        alertEmails: ['growth@example.com', 'ops+alerts@example.co.uk'],
        noncurrentVersionRetention: Duration.hours(48),
        athenaResultsRetention: Duration.days(1),
        athenaBytesScannedCutoffPerQuery: 10_000_000,
        databaseName: 'cohorts_2',
        workGroupName: 'cohorts.staging-2',
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    ).not.toThrow();
  });
});
