import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../../shared/ports.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import { COHORTS, givenLake, givenWorld, portsOf, type World } from '../workflow/support.ts';

const FIRST = '2024-06-01T00:00:00.000Z';
const LATER = '2024-06-05T00:00:00.000Z';
const VERSIONS = 300;
/** The as-of of version v of the long history: one every five minutes after FIRST. */
const asOfOf = (version: number) => new Date(Date.parse(FIRST) + (version - 1) * 300_000).toISOString();

/** A blob store that counts what it is asked: the reads of manifests and the listings. */
function counting(inner: BlobStore): BlobStore & { manifestReads: string[]; listings: string[]; reset(): void } {
  const store = Object.create(inner) as BlobStore & { manifestReads: string[]; listings: string[]; reset(): void };
  store.manifestReads = [];
  store.listings = [];
  store.reset = () => {
    store.manifestReads = [];
    store.listings = [];
  };
  store.get = async (key) => {
    if (key.endsWith('/manifest.json')) store.manifestReads.push(key);
    return inner.get(key);
  };
  store.list = async (prefix) => {
    store.listings.push(prefix);
    return inner.list(prefix);
  };
  return store;
}

/**
 * A world whose cohorts have VERSIONS published versions, one every five minutes, each current in
 * turn (written as an older release would have: no index, no as-of entries).
 */
async function longHistory(): Promise<{ world: World; blobs: ReturnType<typeof counting> }> {
  let blobs: ReturnType<typeof counting> | undefined;
  const world = await givenWorld(await givenLake(), (inner) => {
    blobs = counting(inner);
    return blobs;
  });
  await runRefreshSteps({ as_of: FIRST }, portsOf(world));
  for (const cohort of COHORTS) {
    const first = (await world.store.manifest(cohort, 1)) as Manifest;
    const members = (await world.blobs.get(`snapshots/cohort=${cohort}/version=1/members.parquet`)) as Uint8Array;
    for (let version = 2; version <= VERSIONS; version++) {
      const manifest = { ...first, version, as_of: asOfOf(version), previous_version: version - 1, status: 'published' };
      await world.blobs.create(`snapshots/cohort=${cohort}/version=${version}/members.parquet`, members);
      await world.blobs.create(`snapshots/cohort=${cohort}/version=${version}/manifest.json`, JSON.stringify(manifest));
    }
    await world.blobs.put(`snapshots/cohort=${cohort}/current.json`, `{"version":${VERSIONS}}\n`);
    await world.blobs.put(`snapshots/cohort=${cohort}/index.json`, 'torn{');
  }
  return { world, blobs: blobs as ReturnType<typeof counting> };
}

const indexOf = async (world: World) =>
  JSON.parse(Buffer.from((await world.blobs.get('snapshots/cohort=payers/index.json')) ?? []).toString('utf8')) as unknown;

const outcomeOf = (summary: Awaited<ReturnType<typeof runRefreshSteps>>['summary'], cohort: string) =>
  summary.cohorts.find((c) => c.cohort === cohort);

describe('a refresh over a long history of versions', () => {
  it('reads a bounded number of manifests and never lists every version, once the index is there', async () => {
    // Prepare: 300 versions a cohort and a torn index; a first refresh rebuilds it from one full listing.
    const { world, blobs } = await longHistory();
    await runRefreshSteps({ as_of: LATER }, portsOf(world));
    expect(await indexOf(world)).toEqual({ through: VERSIONS + 1 });
    blobs.reset();

    // Act: the next refresh
    const { summary } = await runRefreshSteps({ as_of: '2024-06-06T00:00:00.000Z' }, portsOf(world));

    // Assess: a new version past the history, judged against the last 28 versions, from a few dozen manifests
    expect(outcomeOf(summary, 'payers')).toMatchObject({ version: VERSIONS + 2, previous_version: VERSIONS + 1 });
    const manifest = (await world.store.manifest('payers', VERSIONS + 2)) as Manifest;
    expect(manifest.checks.find((c) => c.name === 'size_vs_history')?.message).toMatch(/median of the last 28 versions/);
    for (const cohort of COHORTS) {
      const reads = blobs.manifestReads.filter((key) => key.startsWith(`snapshots/cohort=${cohort}/`));
      expect(reads.length).toBeGreaterThanOrEqual(28);
      expect(reads.length).toBeLessThanOrEqual(45);
      expect(blobs.listings).not.toContain(`snapshots/cohort=${cohort}/`);
    }
  });

  it('still finds the version of an old as-of, with a torn, stale or missing index, and repairs the index', async () => {
    const { world, blobs } = await longHistory();
    for (const [index, as] of [
      ['torn{', 'torn'],
      ['{"through":5}\n', 'stale'],
      [undefined, 'missing'],
    ] as const) {
      // Prepare
      if (index === undefined) await rm(join(world.state, 'snapshots/cohort=payers/index.json'));
      else await world.blobs.put('snapshots/cohort=payers/index.json', index);
      blobs.reset();
      // Act: a refresh as of version 150's as-of
      const { summary } = await runRefreshSteps({ as_of: asOfOf(150), cohorts: ['payers'] }, portsOf(world));
      // Assess: that version is the answer (no new version), and the index is whole again
      expect(outcomeOf(summary, 'payers'), as).toMatchObject({ status: 'unchanged', version: 150 });
      expect(await indexOf(world), as).toEqual({ through: VERSIONS });
      expect(await world.store.nextVersion('payers'), as).toBe(VERSIONS + 1);
    }
  });

  it('records a version left behind by a crash as lost once a later as-of is published, from the versions since current only', async () => {
    // Prepare: version 301 written (published) but never made current, the index torn
    const { world, blobs } = await longHistory();
    const last = (await world.store.manifest('payers', VERSIONS)) as Manifest;
    const members = await world.store.members('payers', VERSIONS);
    await world.store.write({ ...last, version: VERSIONS + 1, as_of: LATER, previous_version: VERSIONS }, members);
    await world.blobs.put('snapshots/cohort=payers/index.json', 'torn{');
    blobs.reset();

    // Act: a later as-of
    const { summary } = await runRefreshSteps({ as_of: '2024-06-06T00:00:00.000Z', cohorts: ['payers'] }, portsOf(world));

    // Assess: 302 is current, computed against 300; 301 has its lost-publish record and is out of the history
    expect(outcomeOf(summary, 'payers')).toMatchObject({ version: VERSIONS + 2, previous_version: VERSIONS });
    expect(await world.store.current('payers')).toBe(VERSIONS + 2);
    expect([...(await world.store.lostPublishes('payers')).keys()]).toEqual([VERSIONS + 1]);
    const history = await world.store.publishedManifests('payers');
    expect(history.map((m) => m.version).slice(-2)).toEqual([VERSIONS, VERSIONS + 2]);
  });
});
