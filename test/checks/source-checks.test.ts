import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_SOURCE } from '../../shared/checks/source-rows.ts';
import type { ProjectConfig } from '../../shared/config/config.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import {
  configWith,
  dayFromLast,
  eventsOn,
  history,
  type IdentityRow,
  LAST_DAY,
  type RawEvent,
  runSourceChecks,
  type SourceCheckRun,
  withLake,
  writeRawLake,
} from './support.ts';

let connection: DuckDBConnection;
beforeAll(async () => {
  connection = await openDuckDb({ threads: 2 });
});
afterAll(() => {
  connection.closeSync();
});

/** Writes a lake, runs the one source-check query on DuckDB and evaluates it. */
function check(events: readonly RawEvent[], identities: readonly IdentityRow[] = [], config?: ProjectConfig): Promise<SourceCheckRun> {
  return withLake(async (dir) => {
    await writeRawLake(dir, events, identities);
    return runSourceChecks(connection, dir, config);
  });
}

/** One valid event of a source at an instant. */
const at = (source: string, ts: string, id = `${source}-${ts}`, user = 'someone'): RawEvent => ({
  event_id: id,
  source,
  user_id: user,
  event_name: 'did_something',
  ts,
});

/** A steady month for a source, so that only the check under test moves. */
const steady = (source: string, perDay = 10) => history(source, () => perDay, perDay);

describe('freshness', () => {
  it('passes a source whose latest event is within its SLA', async () => {
    const run = await check([...steady('product'), at('product', '2024-06-15T10:00:00Z')]);
    expect(run.check('product', 'source.freshness')).toEqual({
      name: 'source.freshness',
      status: 'pass',
      observed: 2,
      threshold: 26,
      message: 'product: latest event 2.0 hours before as-of, SLA 26 hours',
    });
  });

  it('warns past the SLA and fails past twice the SLA', async () => {
    const run = await check([at('billing', '2024-06-14T05:00:00Z'), at('crm', '2024-06-13T00:00:00Z')]);
    expect(run.check('billing', 'source.freshness')).toEqual({
      name: 'source.freshness',
      status: 'warn',
      observed: 31,
      threshold: 26,
      message: 'billing: latest event 31.0 hours before as-of, past the SLA of 26 hours; fails past 52 hours',
    });
    expect(run.check('crm', 'source.freshness')).toMatchObject({
      status: 'fail',
      observed: 60,
      threshold: 52,
      message: 'crm: latest event 60.0 hours before as-of, past 52 hours (2 times the SLA of 26 hours)',
    });
  });

  it('judges each source by its own SLA from the config', async () => {
    const config = configWith({ sources: { billing: { freshness_hours: 72, expected: false } } });
    const run = await check([at('billing', '2024-06-14T05:00:00Z')], [], config);
    expect(run.check('billing', 'source.freshness')).toMatchObject({ status: 'pass', threshold: 72 });
  });

  it('fails an expected source that has no event at all', async () => {
    const config = configWith({ sources: { billing: { expected: true }, crm: { expected: false } } });
    const run = await check(steady('product'), [], config);
    expect(run.check('billing', 'source.freshness')).toEqual({
      name: 'source.freshness',
      status: 'fail',
      observed: null,
      threshold: 52,
      message: 'billing: no valid event since 2024-05-16 (the partitions the checks read), SLA 26 hours',
    });
    expect(run.report.sources.map((s) => s.source)).toEqual(['billing', 'product']);
    expect(run.report.status).toBe('fail');
  });

  it('does not see events at or after the as-of instant, nor invalid ones', async () => {
    const run = await check([
      at('billing', '2024-06-13T12:00:00Z'),
      at('billing', '2024-06-15T12:00:00Z'),
      at('billing', '2024-06-15T18:00:00Z'),
      { ...at('billing', '2024-06-15T11:00:00Z'), event_name: '' },
    ]);
    expect(run.check('billing', 'source.freshness')).toMatchObject({ status: 'warn', observed: 48 });
  });
});

describe('volume', () => {
  it('passes a last day in line with a steady month', async () => {
    const run = await check(steady('product'));
    expect(run.check('product', 'source.volume')).toEqual({
      name: 'source.volume',
      status: 'pass',
      observed: 0,
      threshold: 3.5,
      message: 'product: 10 events on 2024-06-14, in line with a median of 10 a day over 28 days (MAD 0, robust z 0.00)',
    });
  });

  it('fails a last day far below 28 days of steady volume, judged in Poisson noise where the MAD is steadier', async () => {
    const run = await check(history('product', () => 100, 20));
    expect(run.check('product', 'source.volume')).toEqual({
      name: 'source.volume',
      status: 'fail',
      observed: -11.01,
      threshold: 6,
      message:
        'product: 20 events on 2024-06-14, far below a median of 100 a day over 28 days (MAD 0, robust z -80.00; -11.01 in Poisson noise); warns at |z| 3.5, fails at 6',
    });
  });

  it('fails a last day with nothing at all', async () => {
    const run = await check([...history('product', () => 100, 0), at('product', '2024-06-15T01:00:00Z')]);
    expect(run.check('product', 'source.volume')).toMatchObject({ status: 'fail', observed: -18.81 });
  });

  it('passes a day that Poisson noise explains, however steady the history', async () => {
    // 10 events a day, then 5: a robust z of -5 by the MAD of 0 (scale 1 event, a warning), -1.81 in Poisson noise.
    const run = await check(history('product', () => 10, 5));
    expect(run.check('product', 'source.volume')).toMatchObject({ status: 'pass', observed: -1.81 });
  });

  it('warns on a clear rise and fails on a day with double volume', async () => {
    // 180 and 220 events on alternate days: median 200, MAD 20, scale 29.65 (Poisson noise is milder).
    const wobbly = (before: number) => (before % 2 === 0 ? 180 : 220);
    const rise = await check(history('product', wobbly, 310));
    expect(rise.check('product', 'source.volume')).toMatchObject({ status: 'warn', observed: 3.71, threshold: 3.5 });
    const doubled = await check(history('product', wobbly, 400));
    expect(doubled.check('product', 'source.volume')).toMatchObject({ status: 'fail', observed: 6.74, threshold: 6 });
    expect(doubled.check('product', 'source.volume').message).toContain(
      'far above a median of 200 a day over 28 days (MAD 20, robust z 6.74)',
    );
  });

  it('passes a quiet day when the same weekday of the trailing weeks is as quiet, and still fails an outage on it', async () => {
    // The last day's weekday (2024-06-14, a Friday) holds 30 events a week, the other days 100.
    const weekly = (before: number) => (before % 7 === 0 ? 30 : 100);
    const quiet = await check(history('product', weekly, 29));
    expect(quiet.check('product', 'source.volume')).toEqual({
      name: 'source.volume',
      status: 'pass',
      observed: -0.18,
      threshold: 3.5,
      message:
        'product: 29 events on 2024-06-14, in line with a median of 30 on Fridays over 4 weeks (MAD 0, robust z -1.00; -0.18 in Poisson noise) ' +
        '(against every day: a median of 100 a day over 28 days, robust z -71.00; -9.20 in Poisson noise)',
    });
    const outage = await check(history('product', weekly, 1));
    expect(outage.check('product', 'source.volume')).toMatchObject({ status: 'fail', observed: -17.69 });
    expect(outage.check('product', 'source.volume').message).toContain('far below a median of 100 a day over 28 days');
  });

  it('passes with a note while a source has fewer than 7 days of history', async () => {
    const events = [-3, -2, -1]
      .flatMap((offset) => eventsOn('support', dayFromLast(offset), 10))
      .concat(eventsOn('support', LAST_DAY, 100));
    const run = await check(events);
    expect(run.check('support', 'source.volume')).toEqual({
      name: 'source.volume',
      status: 'pass',
      observed: 3,
      threshold: 7,
      message:
        "support: 100 events on 2024-06-14; not enough history to judge (3 days of the 7 needed since the source's first event in the window)",
    });
  });

  it('counts distinct events, so duplicated rows do not inflate volume', async () => {
    const events = steady('product');
    const run = await check([...events, ...events.filter((e) => e.ts?.startsWith(LAST_DAY))]);
    expect(run.check('product', 'source.volume')).toMatchObject({ status: 'pass', observed: 0 });
  });
});

describe('duplicates', () => {
  it('fails a doubled source, where every event arrives twice', async () => {
    const events = steady('billing');
    const run = await check([...events, ...events]);
    expect(run.check('billing', 'source.duplicates')).toEqual({
      name: 'source.duplicates',
      status: 'fail',
      observed: 50,
      threshold: 5,
      message: 'billing: 290 of 580 valid rows repeat an event_id (50%); each event counts once; warns at 0.5%, fails at 5%',
    });
  });

  it('warns on a few repeated event_ids and passes without any', async () => {
    const events = steady('billing');
    const run = await check([...events, ...events.slice(0, 3)]);
    expect(run.check('billing', 'source.duplicates')).toMatchObject({ status: 'warn', observed: 1.02, threshold: 0.5 });
    const clean = await check(events);
    expect(clean.check('billing', 'source.duplicates')).toMatchObject({ status: 'pass', observed: 0 });
  });
});

describe('invalid rows', () => {
  const good = eventsOn('crm', LAST_DAY, 95);
  const bad: RawEvent[] = [
    { ...at('crm', '2024-06-14T08:00:00Z', 'crm-x1'), event_id: null },
    { ...at('crm', '2024-06-14T08:01:00Z', 'crm-x2'), user_id: ' \t ' },
    { ...at('crm', '2024-06-14T08:02:00Z', 'crm-x3'), event_name: undefined },
    { ...at('crm', '2024-06-14T08:03:00Z', 'crm-x4'), ts: '2024-06-14 08:03:00', dt: LAST_DAY },
    { ...at('crm', '2024-06-14T08:04:00Z', 'crm-x5'), ts: null, dt: LAST_DAY },
  ];

  it('counts every kind of invalid row and warns past 1%', async () => {
    const run = await check([...good, ...bad]);
    expect(run.check('crm', 'source.invalid_rows')).toEqual({
      name: 'source.invalid_rows',
      status: 'warn',
      observed: 5,
      threshold: 1,
      message:
        'crm: 5 of 100 rows invalid (5%): 1 without event_id, 1 without user_id (or blank), 1 without event_name, 2 with a missing or unparsable ts; they are left out of every cohort; warns at 1%, fails at 10%',
    });
  });

  it('fails when a tenth of the rows are invalid, and passes without any', async () => {
    const run = await check([...good.slice(0, 20), ...bad]);
    expect(run.check('crm', 'source.invalid_rows')).toMatchObject({ status: 'fail', observed: 20, threshold: 10 });
    const clean = await check(good);
    expect(clean.check('crm', 'source.invalid_rows')).toMatchObject({
      status: 'pass',
      observed: 0,
      message: 'crm: no invalid row among 95 rows',
    });
  });

  it('groups rows without a source under (none), as a share of every row', async () => {
    const run = await check([
      ...good,
      { ...at('x', '2024-06-14T09:00:00Z', 'n1'), source: '' },
      { ...at('x', '2024-06-14T09:00:00Z', 'n2'), source: null, user_id: null },
    ]);
    expect(run.check(NO_SOURCE, 'source.invalid_rows')).toEqual({
      name: 'source.invalid_rows',
      status: 'warn',
      observed: 2.06,
      threshold: 1,
      message:
        'rows without a source: 2 of 97 rows in the lake (2.06%): 2 without source, 1 without user_id (or blank); they are left out of every cohort; warns at 1%, fails at 10%',
    });
    expect(run.report.sources.find((s) => s.source === NO_SOURCE)?.checks.map((c) => c.name)).toEqual([
      'source.invalid_rows',
      'source.dt_mismatch',
    ]);
  });

  it('ignores invalid rows at or after the as-of instant', async () => {
    const run = await check([...good, { ...at('crm', '2024-06-15T13:00:00Z'), event_id: '' }]);
    expect(run.check('crm', 'source.invalid_rows')).toMatchObject({ status: 'pass', observed: 0 });
  });
});

describe('unmapped ids', () => {
  const events = Array.from({ length: 20 }, (_, n) =>
    at('crm', `2024-06-14T10:${String(n).padStart(2, '0')}:00Z`, `crm-${n}`, `  Lead${n}@Example.com `),
  );
  const mapped = (count: number): IdentityRow[] =>
    Array.from({ length: count }, (_, n) => ({ source: 'crm', user_id: `lead${n}@example.com`, person_id: `person-${n}` }));

  it('passes when every event maps, after normalizing ids the SPEC way', async () => {
    const run = await check(events, mapped(20));
    expect(run.check('crm', 'source.unmapped_ids')).toEqual({
      name: 'source.unmapped_ids',
      status: 'pass',
      observed: 0,
      threshold: 5,
      message: 'crm: all 20 events have an identity row',
    });
  });

  it('warns past 5% and fails past 25% of events without an identity row', async () => {
    const warn = await check(events, mapped(18));
    expect(warn.check('crm', 'source.unmapped_ids')).toEqual({
      name: 'source.unmapped_ids',
      status: 'warn',
      observed: 10,
      threshold: 5,
      message: 'crm: 2 of 20 events (10%) have no identity row, so those user ids stand as person ids; warns at 5%, fails at 25%',
    });
    const fail = await check(events, mapped(10));
    expect(fail.check('crm', 'source.unmapped_ids')).toMatchObject({ status: 'fail', observed: 50, threshold: 25 });
  });

  it('does not expect a source without identity rows to map, unless the config says so', async () => {
    const lake = [...events, ...eventsOn('product', LAST_DAY, 5)];
    const run = await check(lake, mapped(20));
    expect(run.check('product', 'source.unmapped_ids')).toMatchObject({ status: 'pass', threshold: null });
    const strict = await check(lake, mapped(20), configWith({ sources: { product: { expected: false, mapped: true } } }));
    expect(strict.check('product', 'source.unmapped_ids')).toMatchObject({ status: 'fail', observed: 100 });
  });
});

describe('identity conflicts', () => {
  it('warns when one identity key maps to two person_ids, after normalization', async () => {
    const identities: IdentityRow[] = [
      { source: 'crm', user_id: 'Ann@Example.com', person_id: 'p-ann' },
      { source: 'crm', user_id: ' ann@example.com\n', person_id: 'p-ann-2' },
      { source: 'crm', user_id: 'bob', person_id: 'p-bob' },
      { source: 'crm', user_id: 'bob ', person_id: 'p-bob' },
      { source: 'crm', user_id: 'Bob', person_id: 'p-other' },
      { source: 'crm', user_id: 'carl', person_id: '' },
      { source: 'crm', user_id: 'carl', person_id: 'p-carl' },
    ];
    const run = await check(eventsOn('crm', LAST_DAY, 3), identities);
    expect(run.report.lake).toEqual([
      {
        name: 'identity.conflicts',
        status: 'warn',
        observed: 1,
        threshold: 1,
        message: '1 of 4 identity keys map to more than one person_id (crm: 1); the smallest person_id wins; warns at 1, never fails',
      },
    ]);
  });

  it('passes without conflicts and fails at the configured level', async () => {
    const clean = await check(eventsOn('crm', LAST_DAY, 3), [{ source: 'crm', user_id: 'a', person_id: 'p' }]);
    expect(clean.report.lake[0]).toMatchObject({
      status: 'pass',
      observed: 0,
      message: 'no identity key maps to more than one person_id (1 key)',
    });
    const identities: IdentityRow[] = [
      { source: 'crm', user_id: 'a', person_id: 'p1' },
      { source: 'crm', user_id: 'a', person_id: 'p2' },
      { source: 'support', user_id: 'a', person_id: 'p3' },
      { source: 'support', user_id: 'a', person_id: 'p4' },
    ];
    const config = configWith({ checks: { identity_conflicts: { warn: 1, fail: 2 } } });
    const run = await check(eventsOn('crm', LAST_DAY, 3), identities, config);
    expect(run.report.lake[0]).toMatchObject({ status: 'fail', observed: 2, threshold: 2 });
    expect(run.report.lake[0]?.message).toContain('(crm: 1, support: 1)');
  });
});

describe('dt and ts mismatch', () => {
  it('passes rows within a day of their partition and warns on rows further away', async () => {
    const run = await check([
      ...eventsOn('product', LAST_DAY, 5),
      { ...at('product', '2024-06-10T23:30:00Z', 'near'), dt: '2024-06-11' },
      { ...at('product', '2024-06-10T12:00:00Z', 'far'), dt: '2024-06-13' },
      { ...at('product', '2023-01-01T00:00:00Z', 'backfill'), dt: '2024-06-14' },
    ]);
    expect(run.check('product', 'source.dt_mismatch')).toEqual({
      name: 'source.dt_mismatch',
      status: 'warn',
      observed: 2,
      threshold: 1,
      message:
        'product: 2 rows in a dt partition more than a day from the UTC date of their ts; refreshes that read only recent partitions may miss them; warns at 1, never fails',
    });
    const clean = await check(eventsOn('product', LAST_DAY, 5));
    expect(clean.check('product', 'source.dt_mismatch')).toMatchObject({ status: 'pass', observed: 0 });
  });

  it('fails at the configured level', async () => {
    const config = configWith({ checks: { dt_mismatch: { warn: 1, fail: 2 } } });
    const run = await check(
      [
        { ...at('product', '2024-06-01T12:00:00Z', 'a'), dt: '2024-06-05' },
        { ...at('product', '2024-06-09T12:00:00Z', 'b'), dt: '2024-06-05' },
      ],
      [],
      config,
    );
    expect(run.check('product', 'source.dt_mismatch')).toMatchObject({ status: 'fail', observed: 2, threshold: 2 });
  });
});

describe('the report', () => {
  it('lists every source with all its checks, by name, and the worst status', async () => {
    const run = await check([
      ...steady('product'),
      at('product', '2024-06-15T11:00:00Z'),
      ...steady('billing'),
      at('billing', '2024-06-15T11:00:00Z'),
    ]);
    expect(run.report.days).toEqual({ from: '2024-05-17', last_day: '2024-06-14' });
    expect(run.report.sources.map((s) => [s.source, s.status, s.checks.map((c) => c.name)])).toEqual([
      [
        'billing',
        'pass',
        ['source.freshness', 'source.volume', 'source.invalid_rows', 'source.duplicates', 'source.unmapped_ids', 'source.dt_mismatch'],
      ],
      [
        'product',
        'pass',
        ['source.freshness', 'source.volume', 'source.invalid_rows', 'source.duplicates', 'source.unmapped_ids', 'source.dt_mismatch'],
      ],
    ]);
    expect(run.report.status).toBe('pass');
  });

  it('returns a handful of rows: one per source and day, one per source, one for the lake', async () => {
    const run = await check([...steady('product'), ...steady('billing')], [{ source: 'billing', user_id: 'x', person_id: 'p' }]);
    const grains = run.rows.map((r) => r.grain);
    expect(grains.filter((g) => g === 'day')).toHaveLength(2 * 29);
    expect(grains.filter((g) => g === 'source')).toHaveLength(2);
    expect(grains.filter((g) => g === 'lake')).toHaveLength(1);
    expect(grains.filter((g) => g === 'identity')).toHaveLength(1);
  });
});
