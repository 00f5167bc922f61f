import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRefresh } from '../../shared/compiler/compile-refresh.ts';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { localTasks, RefreshFailedError } from '../../shared/workflow/local-tasks.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { login } from '../support/lake.ts';
import { tamperTile } from '../support/tiles.ts';
import { alertsOf, COHORTS, givenLake, givenWorld, portsOf, type World } from './support.ts';

const AS_OF = '2024-06-01T00:00:00Z';

/** Every cohort's members in its latest version. */
async function latestMembers(world: World): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const id of COHORTS) {
    const versions = await world.store.versions(id);
    result[id] = await world.store.members(id, versions[versions.length - 1] as number);
  }
  return result;
}

describe('the refresh modes: tiles, full (the default) and verify', () => {
  it('with tiles builds tiles, reads them, records lineage, and gives the members full gives', async () => {
    // GIVEN two worlds over the tiny lake
    const lake = await givenLake();
    const tiled = await givenWorld(lake);
    const full = await givenWorld(lake);
    // WHEN one refreshes from tiles and the other by default (full)
    const run = await runRefreshSteps({ as_of: AS_OF, mode: 'tiles' }, portsOf(tiled));
    await runRefreshSteps({ as_of: AS_OF }, portsOf(full));
    // THEN the members are the same, the tiled run built every tile day and says so
    expect(await latestMembers(tiled)).toEqual(await latestMembers(full));
    expect(run.summary.tiles).toMatchObject({ mode: 'tiles', rebuilt_days: 0, reused_days: 0 });
    expect(run.summary.tiles.built_days).toBeGreaterThan(0);
    const manifest = await tiled.store.manifest('active_users', 1);
    expect(manifest?.lineage.tiles).toMatchObject({ mode: 'tiles', days: { to: '2024-06-01' } });
    expect(manifest?.lineage.query).toContain('cohort-refresh (tiles)');
    expect(manifest?.lineage.bytes_scanned?.evaluate).toBeGreaterThan(0);
    // AND a second refresh reuses every tile
    const again = await runRefreshSteps({ as_of: '2024-06-02T00:00:00Z', mode: 'tiles' }, portsOf(tiled));
    expect(again.summary.tiles).toMatchObject({ mode: 'tiles', rebuilt_days: 0, reused_days: run.summary.tiles.built_days });
  });

  it('full (the default) computes from raw events exactly as before tiles, touching no tile', async () => {
    // GIVEN a world WHEN it refreshes without a mode
    const world = await givenWorld(await givenLake());
    const run = await runRefreshSteps({ as_of: AS_OF }, portsOf(world));
    // THEN every version has the members of the full query evaluated on its own, and its lineage its SQL
    const catalog = await loadCatalog(world.definitions);
    const compiled = compileRefresh({
      cohorts: catalog.definitions,
      asOf: new Date(AS_OF),
      lake: (await world.engine.lake()).relations,
      dialect: world.engine.dialect,
      metrics: DEFAULT_CONFIG.metrics,
    });
    const result = await world.engine.evaluate(compiled.sql, 'today');
    for (const id of COHORTS) {
      expect({ id, members: await world.store.members(id, 1) }).toEqual({
        id,
        members: await world.engine.members(result, compiled.columns.get(id) as string),
      });
      const lineage = (await world.store.manifest(id, 1))?.lineage;
      expect(lineage?.query).toBe(compiled.sql);
      expect(lineage?.tiles).toBeUndefined();
    }
    expect(run.summary.tiles).toMatchObject({ mode: 'full', built_days: 0, rebuilt_days: 0, reused_days: 0, raw_measures: [] });
    expect(await readdir(world.state)).not.toContain('tiles');
  });

  it('--verify passes on a clean lake and records that the tiles were verified', async () => {
    const world = await givenWorld(await givenLake());
    const run = await runRefreshSteps({ as_of: AS_OF, mode: 'verify' }, portsOf(world));
    expect(run.summary.tiles.mode).toBe('verify');
    expect(run.summary.cohorts.map((c) => c.status)).toEqual(COHORTS.map(() => expect.stringMatching(/published|held/)));
    expect((await world.store.manifest('active_users', 1))?.lineage.tiles?.mode).toBe('verify');
  });

  it('--verify compares the tiles with the full query over the lake the tiles read, so a file landing after Plan is no difference', async () => {
    // GIVEN a world whose verify run has planned (Plan listed the lake)
    const world = await givenWorld(await givenLake());
    const tasks = localTasks(portsOf(world), 'r1');
    const { plan } = await tasks.Plan({ request: { as_of: AS_OF, mode: 'verify' }, run_id: 'r1', started_at: new Date().toISOString() });
    // WHEN a file with a login of a new person lands before its Tiles step (`cohorts ingest` beside the run)
    await writeFile(
      join(world.lake, 'events', 'dt=2024-05-31', 'late.jsonl'),
      `${JSON.stringify(login('d1', 'dan', '2024-05-31T12:00:00Z'))}\n`,
    );
    // THEN verify passes (both queries read the lake of the Tiles step) and the statement counts dan as active
    const tiles = await tasks.Tiles({ plan });
    const evaluated = await tasks.Evaluate({ QueryString: tiles.statement });
    const evaluation = { query_execution_id: evaluated.QueryExecution.QueryExecutionId, data_scanned_bytes: 0 };
    await tasks.Snapshot({ plan, cohort: 'active_users', evaluation, tiles });
    expect(await world.store.members('active_users', 1)).toContain('dan');
  });

  it('--verify fails at Tiles, before anything is written, naming the cohort, the counts and the person, when a tile lies', async () => {
    // GIVEN tiles built by a first refresh, then bob's rows taken out of the fresh tile of 05-31
    const world = await givenWorld(await givenLake());
    await runRefreshSteps({ as_of: AS_OF, mode: 'tiles' }, portsOf(world));
    await tamperTile(world.state, '2024-05-31', 'bob');
    const before = await latestMembers(world);
    // WHEN a later refresh verifies
    const run = runRefreshSteps({ as_of: '2024-06-01T06:00:00Z', mode: 'verify' }, portsOf(world));
    // THEN it fails at Tiles with TilesMismatchError: active_users has bob in the full computation only
    await expect(run).rejects.toBeInstanceOf(RefreshFailedError);
    const error = (await run.catch((e: unknown) => e)) as RefreshFailedError;
    expect({ step: error.step, error: error.error }).toEqual({ step: 'Tiles', error: 'TilesMismatchError' });
    expect(error.errorCause).toContain('active_users (full 2, tiles 1; only in full: bob; only in tiles: -)');
    // AND nothing was written or published, and the error alert names the step
    expect(await latestMembers(world)).toEqual(before);
    expect(await world.store.versions('active_users')).toEqual([1]);
    expect((await alertsOf(world)).filter((a) => a.severity === 'error').map((a) => a.step)).toEqual(['Tiles']);
    // AND the same refresh without --verify would have published the tiles' wrong answer: that is what verify is for
    const unverified = await runRefreshSteps({ as_of: '2024-06-01T06:00:00Z', mode: 'tiles' }, portsOf(world));
    expect(unverified.summary.cohorts.find((c) => c.cohort === 'active_users')?.size).toBe(1);
  });
});
