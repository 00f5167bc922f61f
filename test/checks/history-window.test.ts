import { describe, expect, it } from 'vitest';
import { cohortChecks } from '../../shared/checks/cohort-checks.ts';
import { historyComplete } from '../../shared/checks/history-window.ts';
import { kpiChecks } from '../../shared/checks/kpi-checks.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import type { MembersCodec } from '../../shared/ports.ts';
import type { Kpis, Manifest } from '../../shared/store/manifest.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { tempDir } from '../support/cli.ts';

const codec: MembersCodec = {
  encode: async (ids) => new TextEncoder().encode(JSON.stringify(ids)),
  decode: async (bytes) => JSON.parse(Buffer.from(bytes).toString('utf8')) as string[],
};
const METRICS = { activation: { event: 'login' }, value: { event: 'purchase' } } as unknown as Kpis['metrics'];
const OLD_VALUE = { ...METRICS, value: { event: 'order' } } as unknown as Kpis['metrics'];
const kpisOf = (size: number, metrics: Kpis['metrics'], seed: number): Kpis => ({
  size,
  entered: 0,
  exited: 0,
  activation_count: Math.floor(size / 2) + (seed % 4),
  activation_share: (Math.floor(size / 2) + (seed % 4)) / size,
  value_sum: size * (10 + (seed % 5)),
  value_mean: 10 + (seed % 5),
  metrics,
});

/** The checks a new version of these KPIs gets against a history (as snapshot-cohort.ts gives them). */
function checksAgainst(kpis: Kpis, history: readonly Manifest[], previous: number) {
  const before = history.find((m) => m.version === previous) as Manifest;
  return [
    ...cohortChecks({
      size: kpis.size,
      previous: { size: before.size, definitionHash: 'h' },
      history: history.map((m) => m.size),
      entered: 0,
      exited: 0,
      definitionHash: 'h',
    }),
    ...kpiChecks({
      kpis,
      previous: { version: before.version, ...(before.kpis ? { kpis: before.kpis } : {}) },
      history: history.map((m) => m.kpis),
    }),
  ];
}

describe('the history a new version is judged against', () => {
  it('is read back only as far as the checks look, and the checks come out as against the whole history', async () => {
    // Prepare: 150 versions; every third too small for KPI shifts, every fifth on another value
    // metric, every eleventh held, every thirteenth without KPIs (from before them)
    const store = new SnapshotStore(new FsBlobStore(await tempDir()), codec);
    for (let version = 1; version <= 150; version++) {
      const size = version % 3 === 0 ? 10 : 100 + (version % 7);
      const kpis = kpisOf(size, version % 5 === 0 ? OLD_VALUE : METRICS, version);
      const manifest = {
        cohort: 'vip',
        version,
        as_of: new Date(Date.UTC(2024, 0, 1, version)).toISOString(),
        status: version % 11 === 0 ? 'held' : 'published',
        size,
        previous_version: version - 1 || null,
        ...(version % 13 === 0 ? {} : { kpis }),
      } as unknown as Manifest;
      await store.write(manifest, []);
    }
    // The old value metric is rare: its KPI history reaches back to the first version.
    for (const [kpis, bounded] of [
      [kpisOf(104, METRICS, 3), true],
      [kpisOf(12, METRICS, 1), true],
      [kpisOf(104, OLD_VALUE, 2), false],
    ] as const) {
      // Act
      const recent = await store.recentPublished('vip', 151, (read) => historyComplete(read, { kpis, previousVersion: 149 }));
      // Assess
      const whole = await store.publishedManifests('vip');
      if (bounded) expect(recent.length).toBeLessThan(whole.length / 2);
      else expect(recent.length).toBe(whole.length);
      expect(whole.slice(-recent.length)).toEqual(recent);
      expect(checksAgainst(kpis, recent, 149)).toEqual(checksAgainst(kpis, whole, 149));
    }
  });
});
