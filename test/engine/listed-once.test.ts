import { describe, expect, it } from 'vitest';
import { listedOnce, type ListingEngine } from '../../shared/engine/listed-once.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import type { LakeView } from '../../shared/ports.ts';

/** An engine whose every listing is a new view naming how many listings came before it. */
function countingEngine(): ListingEngine<{ readonly view: LakeView; readonly n: number }> & { listings: number } {
  const engine = {
    listings: 0,
    name: 'counting',
    dialect: duckdbDialect,
    async listLake() {
      engine.listings += 1;
      return { view: { relations: { events: `events_${engine.listings}` } } as unknown as LakeView, n: engine.listings };
    },
    async lake() {
      return (await engine.listLake()).view;
    },
    evaluate: async () => ({ id: 'e' }) as never,
    members: async () => ['ann'],
    kpis: async () => ({}) as never,
    release: async () => undefined,
    rows: async (sql: string) => [{ sql }],
  };
  return engine;
}

describe('an engine whose lake is listed once', () => {
  it('lists on first use and gives lake() and listLake() that one listing; a new wrapper lists anew', async () => {
    const engine = countingEngine();
    const once = listedOnce(engine);
    expect(engine.listings).toBe(0);

    const [view, listed, again] = await Promise.all([once.lake(), once.listLake(), once.listLake()]);
    expect(engine.listings).toBe(1);
    expect(listed.view).toBe(view);
    expect(again).toBe(listed);
    expect(await once.lake()).toBe(view);

    const next = listedOnce(engine);
    expect((await next.listLake()).n).toBe(2);
    expect(await once.lake()).toBe(view);
  });

  it('passes every other call to the engine', async () => {
    const engine = countingEngine();
    const once = listedOnce(engine);
    expect(once.name).toBe('counting');
    expect(await once.rows('SELECT 1')).toEqual([{ sql: 'SELECT 1' }]);
    expect(await once.members({ id: 'e' } as never, 'c')).toEqual(['ann']);
    expect(engine.listings).toBe(0);
  });
});
