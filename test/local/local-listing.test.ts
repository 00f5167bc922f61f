import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { oneLocalListing } from '../../shared/local/local-listing.ts';
import { openLocalPorts } from '../../shared/local/local-ports.ts';
import type { QueryEngine } from '../../shared/ports.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { localTasks } from '../../shared/workflow/local-tasks.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { tempDir } from '../support/cli.ts';
import { header, login, writeDefinitions, writeLake } from '../support/lake.ts';
import { localPortsOver } from '../support/local-run.ts';

describe('a local refresh from tiles and a file landing while its Tiles step runs', () => {
  it('reads one listing of the lake for the tiled query and the tile builds, so its members are those of one lake', async () => {
    // GIVEN people logging in exactly once within the 2 days before 2024-06-03 12:00 (window: raw 06-01 from 12:00, tile
    // day 06-02, raw 06-03 until 12:00): ann, once on 06-02
    const root = await tempDir();
    const lake = join(root, 'lake');
    const definitions = join(root, 'definitions');
    const state = join(root, 'state');
    await writeLake(lake, [login('a', 'ann', '2024-06-02T10:00:00Z')]);
    await writeDefinitions(definitions, {
      'once.yaml': `${header('once')}rule:\n  event: login\n  within: 2d\n  count: {eq: 1}\n`,
    });
    // AND an engine after whose next listing, once armed, a file lands in dt=2024-06-03 with two logins of bob: one of
    // 06-02 (the SPEC's day of slack, read by 06-02's tile) and one of 06-03 (read raw). Bob logged in twice or never.
    const engine = new DuckDbEngine(await openDuckDb(), lake, 'duckdb test');
    let armed = false;
    let landed = false;
    const land = async () => {
      if (!armed || landed) return;
      landed = true;
      const lines = [login('b1', 'bob', '2024-06-02T23:30:00Z'), login('b2', 'bob', '2024-06-03T01:00:00Z')];
      await mkdir(join(lake, 'events', 'dt=2024-06-03'), { recursive: true });
      await writeFile(join(lake, 'events', 'dt=2024-06-03', 'late.jsonl'), lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
    };
    const racing = new Proxy(engine, {
      get(target, property) {
        if (property === 'lake' || property === 'listLake') {
          return async () => {
            const listed = await (property === 'lake' ? target.lake() : target.listLake());
            await land();
            return listed;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = new SnapshotStore(new FsBlobStore(state), engine);
    const ports = {
      ...localPortsOver({ definitions, state, engine: racing, store, tiles: engine.tiles(state, undefined, racing) }),
      tilesStep: () => oneLocalListing(racing, (over) => engine.tiles(state, undefined, over)),
    };
    const tasks = localTasks(ports, 'r1');
    const { plan } = await tasks.Plan({
      request: { as_of: '2024-06-03T12:00:00Z', mode: 'tiles' },
      run_id: 'r1',
      started_at: new Date().toISOString(),
    });

    // WHEN the Tiles step brings the tiles up to date and compiles the query, the file landing after its first listing
    armed = true;
    const tiles = await tasks.Tiles({ plan });
    const evaluated = await tasks.Evaluate({ QueryString: tiles.statement });
    const evaluation = { query_execution_id: evaluated.QueryExecution.QueryExecutionId, data_scanned_bytes: 0 };
    await tasks.Snapshot({ plan, cohort: 'once', evaluation, tiles });

    // THEN bob is not a member (his events were read in full or not at all: the lake of one moment)
    expect(landed).toBe(true);
    expect(await store.members('once', 1)).toEqual(['ann']);
    // AND the next refresh from tiles reads the file (the tile of 06-02 did not record it unread), as the full query does
    const next = await runRefreshSteps({ as_of: '2024-06-03T12:00:01Z', mode: 'tiles' }, ports);
    expect(next.summary.tiles).toMatchObject({ rebuilt_days: 1 });
    expect(await store.members('once', 2)).toEqual(['ann']);
    await runRefreshSteps({ as_of: '2024-06-03T12:00:02Z', mode: 'full' }, ports);
    expect(await store.members('once', (await store.current('once')) ?? 0)).toEqual(['ann']);
  });

  it('is what `cohorts run` gives each Tiles step: its engine lists the lake once, and each step lists it anew', async () => {
    // GIVEN the CLI's local ports over a lake with one file
    const root = await tempDir();
    const folders = { data: join(root, 'lake'), definitions: join(root, 'definitions'), state: join(root, 'state') };
    await writeLake(folders.data, [login('a', 'ann', '2024-06-02T10:00:00Z')]);
    await writeDefinitions(folders.definitions, { 'once.yaml': `${header('once')}rule:\n  event: login\n` });
    const local = await openLocalPorts(folders);
    const step = local.tilesStep?.();
    expect(step).toBeDefined();
    const eventsOf = async (engine: QueryEngine | undefined) => (await engine?.lake())?.relations.events;
    const before = await eventsOf(step?.engine);
    // WHEN a file lands
    await writeFile(
      join(folders.data, 'events', 'dt=2024-06-02', 'late.jsonl'),
      `${JSON.stringify(login('b', 'bob', '2024-06-02T11:00:00Z'))}\n`,
    );
    // THEN the step's engine still reads its first listing, and the next step's reads the file
    expect(await eventsOf(step?.engine)).toBe(before);
    expect(await eventsOf(local.tilesStep?.().engine)).toContain('late.jsonl');
    expect(before).not.toContain('late.jsonl');
  });
});
