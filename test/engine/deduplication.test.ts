import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, header, writeLake } from '../support/lake.ts';

const paid = (id: string, user: string, ts: string, value: number | null, source = 'billing'): EventRow => ({
  event_id: id,
  source,
  user_id: user,
  event_name: 'invoice_paid',
  ts,
  value,
});

describe('de-duplication by event_id', () => {
  it('counts each event_id once, keeping the copy first by ts, then source, then user, with NULLs last', async () => {
    // GIVEN copies of events that differ (SPEC: which one counts is unspecified; ours is fixed)
    const lake = join(await tempDir(), 'lake');
    await writeLake(lake, [
      paid('e1', 'ann', '2024-05-10T00:00:00Z', 10),
      paid('e1', 'bob', '2024-05-09T00:00:00Z', 20), // earlier: this copy counts, for bob
      paid('e2', 'cy', '2024-05-11T00:00:00Z', 30, 'crm'),
      paid('e2', 'dee', '2024-05-11T00:00:00Z', 40, 'billing'), // same ts, 'billing' < 'crm': counts
      paid('e3', 'eve', '2024-05-12T00:00:00Z', null),
      paid('e3', 'eve', '2024-05-12T00:00:00Z', 50), // NULL value sorts last: this copy counts
      paid('e4', 'fay', '2024-05-12T00:00:00Z', 5),
      paid('e4', 'fay', '2024-05-12T00:00:00Z', 5), // identical copies count once
    ]);
    const catalog = buildCatalog([
      { path: 'paid_any.yaml', text: `${header('paid_any')}rule:\n  event: invoice_paid\n  sum: {gt: 0}\n` },
      { path: 'paid_twice.yaml', text: `${header('paid_twice')}rule:\n  event: invoice_paid\n  count: 2\n` },
    ]);
    const engine = new DuckDbEngine(await openDuckDb(), lake);
    const compiled = compileRefresh({
      cohorts: catalog.definitions,
      asOf: new Date('2024-06-01T00:00:00Z'),
      lake: (await engine.lake()).relations,
      dialect: engine.dialect,
    });

    // WHEN the one query runs
    const result = await engine.evaluate(compiled.sql, 'dedup');

    // THEN only the first copies count
    expect(await engine.members(result, compiled.columns.get('paid_any') as string)).toEqual(['bob', 'dee', 'eve', 'fay']);
    expect(await engine.members(result, compiled.columns.get('paid_twice') as string)).toEqual([]);
  });
});
