import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cohorts, loginProject } from '../support/cli.ts';
import { tamperTile } from '../support/tiles.ts';

const AS_OF = '2024-06-01T00:00:00Z';

describe('cohorts run --tiles, --full and --verify', () => {
  let root: string;
  let common: string[];

  beforeAll(async () => {
    ({ root, common } = await loginProject());
  });

  it('prints how each run computed its cohorts: tiles with --tiles, raw events with --full (the default), both with --verify', async () => {
    const state = ['--state', join(root, 'modes')];
    const tiled = await cohorts('run', '--as-of', AS_OF, '--tiles', ...common, ...state);
    expect(tiled.code).toBe(0);
    expect(tiled.stdout.join('\n')).toMatch(
      /\ntiles: \d+ days built, 0 rebuilt, 0 reused; 0 measures read raw; read [\d.]+ MB \(a full refresh reads [\d.]+ MB\)/,
    );
    for (const flags of [['--full'], []]) {
      const full = await cohorts('run', '--as-of', AS_OF, ...flags, '--force', ...common, ...state);
      expect(full.code).toBe(0);
      expect(full.stdout.join('\n')).toContain('\nfull refresh from raw events (no tile read or built); read ');
    }
    const verified = await cohorts('run', '--as-of', AS_OF, '--verify', '--force', ...common, ...state);
    expect(verified.code).toBe(0);
    expect(verified.stdout.join('\n')).toMatch(/\ntiles, verified against the full computation: 0 days built, 0 rebuilt, \d+ reused;/);
  });

  it('exits 1 naming the cohort and the person when --verify finds the tiles differ', async () => {
    // GIVEN tiles, then bob's rows taken out of the (still fresh) tile of 2024-05-31
    const state = join(root, 'tampered');
    expect((await cohorts('run', '--as-of', AS_OF, '--tiles', ...common, '--state', state)).code).toBe(0);
    await tamperTile(state, '2024-05-31', 'bob');
    // WHEN a run verifies THEN it fails at Tiles, before publishing anything
    const run = await cohorts('run', '--as-of', '2024-06-01T01:00:00Z', '--verify', ...common, '--state', state);
    expect(run.code).toBe(1);
    expect(run.stderr.join('\n')).toContain('failed at Tiles: TilesMismatchError');
    expect(run.stderr.join('\n')).toContain('active_users (full 2, tiles 1; only in full: bob');
  });

  it('refuses two modes at once, and a mode with another command', async () => {
    const both = await cohorts('run', '--full', '--verify', ...common, '--state', join(root, 'refused'));
    expect(both).toMatchObject({ code: 2 });
    expect(both.stderr.join('\n')).toContain('--full and --verify exclude each other');
    const other = await cohorts('validate', '--tiles', ...common);
    expect(other.stderr.join('\n')).toContain('--tiles does not apply to validate (run, demo take it)');
  });
});
