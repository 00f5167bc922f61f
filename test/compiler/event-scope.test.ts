import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { anyScopeSql, type EventScope } from '../../shared/compiler/event-scope.ts';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';

/**
 * The property extraction guard: JSON is parsed only for events inside some leaf's scope, so the
 * guard must admit exactly the union of the scopes, whichever of them it leaves out as covered.
 */
const T = Date.parse('2024-06-01T00:00:00Z');
const DAY = 86_400_000;

interface Probe {
  readonly name: string;
  readonly source: string;
  readonly ts: number;
}

const admits = (scope: EventScope, e: Probe) =>
  (scope.events === '*' || scope.events.includes(e.name)) &&
  (scope.sources === undefined || scope.sources.includes(e.source)) &&
  (scope.from === undefined || e.ts >= scope.from) &&
  (scope.to === undefined || e.ts < scope.to);

const PROBES: Probe[] = ['feature_used', 'ticket_opened', 'login'].flatMap((name) =>
  ['product', 'support'].flatMap((source) =>
    [-60, -30, -7, -1].flatMap((days) => [-1, 0, 1].map((ms) => ({ name, source, ts: T + days * DAY + ms }))),
  ),
);

const SCOPE_SETS: Record<string, EventScope[]> = {
  'a narrower window and a narrower source of the same event': [
    { events: ['feature_used'], from: T - 30 * DAY },
    { events: ['feature_used'], sources: ['product'], from: T - 7 * DAY },
  ],
  'a wider scope after a narrower one': [
    { events: ['feature_used'], sources: ['product'], from: T - 7 * DAY, to: T - DAY },
    { events: ['feature_used', 'ticket_opened'] },
  ],
  'windows that overlap without covering each other': [
    { events: ['ticket_opened'], from: T - 30 * DAY, to: T - 7 * DAY },
    { events: ['ticket_opened'], from: T - 7 * DAY },
    { events: ['ticket_opened'], sources: ['support'], to: T - 30 * DAY },
  ],
  'the same scope twice': [
    { events: ['login'], sources: ['product'] },
    { events: ['login'], sources: ['product'] },
  ],
  'any event of one source': [
    { events: '*', sources: ['support'], from: T - 7 * DAY },
    { events: ['ticket_opened'], sources: ['support'], from: T - DAY },
  ],
};

describe('the property extraction guard', () => {
  let connection: DuckDBConnection;
  beforeAll(async () => {
    connection = await openDuckDb();
    const rows = PROBES.map((p, i) => `(${i}, ${stringLiteral(p.name)}, ${stringLiteral(p.source)}, ${duckdbDialect.timestamp(p.ts)})`);
    await connection.run(`CREATE TABLE e AS SELECT * FROM (VALUES ${rows.join(', ')}) AS v(i, event_name, source, ts)`);
  });
  afterAll(() => connection.closeSync());

  it.each(Object.entries(SCOPE_SETS))('admits exactly the events of some scope: %s', async (_, scopes) => {
    const guard = anyScopeSql(scopes, duckdbDialect);
    const reader = await connection.runAndReadAll(`SELECT i FROM e WHERE ${guard} ORDER BY i`);
    const admitted = reader.getRows().map((row) => Number(row[0]));
    const expected = PROBES.flatMap((p, i) => (scopes.some((s) => admits(s, p)) ? [i] : []));
    expect(admitted).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(PROBES.length);
  });

  it('leaves out the scopes another one covers', () => {
    const guard = (name: string) => anyScopeSql(SCOPE_SETS[name] as EventScope[], duckdbDialect);
    expect(guard('a narrower window and a narrower source of the same event')).toBe(
      "(e.event_name = 'feature_used' AND e.ts >= TIMESTAMP '2024-05-02 00:00:00.000')",
    );
    expect(guard('a wider scope after a narrower one')).toBe("e.event_name IN ('feature_used', 'ticket_opened')");
    expect(guard('the same scope twice')).toBe("(e.event_name = 'login' AND e.source = 'product')");
    expect(guard('windows that overlap without covering each other').split(' OR ')).toHaveLength(3);
  });

  it('is TRUE once a scope admits every event, and FALSE without scopes', () => {
    expect(anyScopeSql([{ events: ['login'] }, { events: '*' }], duckdbDialect)).toBe('TRUE');
    expect(anyScopeSql([], duckdbDialect)).toBe('FALSE');
  });
});
