import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseFixture } from '../../shared/fixtures/parse-fixture.ts';
import { runFixture } from '../../shared/fixtures/run-fixture.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { duckdbFixtureLakes } from '../../shared/local/fixture-lake.ts';
import { catalog } from './support.ts';

// Every leaf here is windowed, so the population comes from its own narrow scan and people whose
// events all predate the windows reach the per-person aggregation with no event rows at all.
const CATALOG = catalog({
  active_users: 'event: login\nwithin: 7d',
  quiet_users: 'not: {cohort: active_users}',
  few_logins: 'event: login\nwithin: 7d\ncount: {lt: 2}',
  no_logins: 'event: login\nwithin: 7d\ncount: {eq: 0}',
});

const FIXTURE = `as_of: 2024-06-15T12:00:00Z
events:
  - {user_id: ann, source: product, event_name: login, ts: -1d}
  - {user_id: old, source: product, event_name: login, ts: -30d}
expect:
  active_users: [ann]
  quiet_users: [old]
  few_logins: [ann, old]
  no_logins: [old]
`;

describe('a catalog whose every leaf is windowed', () => {
  let connection: DuckDBConnection;
  beforeAll(async () => {
    connection = await openDuckDb();
  });
  afterAll(() => connection.closeSync());

  it('counts zero events for people of the population with no events in any window', async () => {
    const parsed = parseFixture(FIXTURE, 'population.test.yaml');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const verdict = await runFixture(parsed.fixture, CATALOG, duckdbFixtureLakes(connection, 'duckdb'), 'population_scan');
    expect(verdict.cohorts.filter((c) => c.missing.length + c.unexpected.length > 0)).toEqual([]);
  });
});
