import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { loadCatalog } from '../../shared/language/catalog.ts';
import { openLocalPorts } from '../../shared/local/local-ports.ts';
import { generateSampleLake } from '../../shared/sample/generate-lake.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import type { WorkflowSummary } from '../../shared/workflow/types.ts';
import { tempDir } from '../support/cli.ts';

const REPO = join(import.meta.dirname, '..', '..');
/** The lake `npm start` writes: 3,000 people over 120 days, seed 42 (here ending at a fixed instant). */
const END = new Date('2026-11-24T10:00:00Z');

describe('tiles on the default catalog and the sample lake of npm start', () => {
  let root: string;
  const folders = (state: string) => ({ data: join(root, 'data'), definitions: join(REPO, 'definitions'), state: join(root, state) });
  const refresh = async (state: string, mode: 'tiles' | 'full' | 'verify', asOf = END) => {
    const ports = await openLocalPorts(folders(state), DEFAULT_CONFIG);
    return runRefreshSteps({ as_of: asOf.toISOString(), mode }, ports);
  };
  const members = async (state: string, summary: WorkflowSummary) => {
    const { store } = await openLocalPorts(folders(state), DEFAULT_CONFIG);
    const result: Record<string, string[]> = {};
    for (const c of summary.cohorts) result[c.cohort] = await store.members(c.cohort, c.version);
    return result;
  };

  beforeAll(async () => {
    root = await tempDir();
    await generateSampleLake({ dir: join(root, 'data'), people: 3000, days: 120, end: END, seed: 42 });
  }, 120_000);

  it('gives every cohort the members --full gives, and --verify agrees, at the end of the data and a day later', async () => {
    const catalog = await loadCatalog(join(REPO, 'definitions'));
    const expired: (number | undefined)[] = [];
    for (const asOf of [END, new Date(END.getTime() + 86_400_000 + 3_600_000)]) {
      const tiled = await refresh('tiled', 'tiles', asOf);
      expired.push(tiled.summary.tiles.expired_days);
      const full = await refresh('full', 'full', asOf);
      expect(tiled.summary.cohorts).toHaveLength(catalog.definitions.filter((d) => !d.deprecated).length);
      expect(tiled.summary.population).toBe(full.summary.population);
      expect(await members('tiled', tiled.summary)).toEqual(await members('full', full.summary));
      // verify evaluates both queries and compares every cohort: it passes
      expect((await refresh('tiled', 'verify', asOf)).summary.tiles.mode).toBe('verify');
    }
    // the days no window reads one by one were folded into the rollup: most of the lake's first
    // month; a day later one more day expired, which waits for a week's batch (FOLD_BATCH_DAYS)
    expect(expired[0]).toBeGreaterThan(10);
    expect(expired[1]).toBeUndefined();
  }, 300_000);
});
