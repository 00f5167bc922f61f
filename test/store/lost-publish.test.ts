import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { loadHistories } from '../../shared/report/history.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { CurrentMovedError } from '../../shared/store/snapshot-store.ts';
import { cohorts } from '../support/cli.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { givenLake, givenWorld, portsOf } from '../workflow/support.ts';

const FIRST = '2024-06-01T00:00:00.000Z';
const SECOND = '2024-06-02T00:00:00.000Z';

describe('a version that lost the publish race', () => {
  it('is not taken for published: not the answer for its as-of, not in the report, and marked lost in history', async () => {
    // Prepare: v1 published; then two runs as of the next day, both against v1: v3 (run "winner")
    // became current first, so v2 (run "loser", same definition and as-of) lost.
    const world = await givenWorld(await givenLake());
    await runRefreshSteps({ as_of: FIRST }, portsOf(world));
    const v1 = (await world.store.manifest('payers', 1)) as Manifest;
    const members = await world.store.members('payers', 1);
    const at = (version: number, run: string): Manifest => ({
      ...v1,
      version,
      as_of: SECOND,
      previous_version: 1,
      lineage: { ...v1.lineage, run_id: run },
    });
    await world.store.write(at(2, 'loser'), members);
    await world.store.write(at(3, 'winner'), members);
    await world.store.publish('payers', 3);
    await expect(world.store.publish('payers', 2)).rejects.toBeInstanceOf(CurrentMovedError);

    // Act: the next refresh as of the same day, with the same definition
    const { summary } = await runRefreshSteps({ as_of: SECOND }, portsOf(world));

    // Assess: the winner is that day's version (unchanged), not the version that lost
    expect(summary.cohorts.find((c) => c.cohort === 'payers')).toMatchObject({ status: 'unchanged', version: 3 });
    const history = await cohorts('history', 'payers', '--state', world.state, '--data', world.lake, '--definitions', world.definitions);
    expect(history.code).toBe(0);
    expect(history.stdout.join('\n')).toMatch(/^v2\s+2024-06-02T00:00:00\.000Z\s+lost\s/m);
    expect(history.stdout.join('\n')).toMatch(/^v3 \(current\)\s+2024-06-02T00:00:00\.000Z\s+published\s/m);
    expect(history.stdout).toContainEqual(
      expect.stringMatching(
        /^v2 lost the publish race \(run loser, .*\): computed against v1, but current was v3; it never became current/,
      ),
    );
    // The report shows what downstream saw: v1 and v3.
    const histories = await loadHistories((await loadCatalog(world.definitions)).definitions, world.store);
    expect(histories.find((h) => h.definition.id === 'payers')?.manifests.map((m) => m.version)).toEqual([1, 3]);
  });
});
