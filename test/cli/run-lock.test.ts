import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ABANDONED_FILE, findLeftovers } from '../../shared/local/leftovers.ts';
import { RUN_LOCK } from '../../shared/local/run-lock.ts';
import { cohorts, loginProject } from '../support/cli.ts';

const AS_OF = '2024-06-01T00:00:00Z';

describe('the run lock of a state folder (D9) and what crashes leave (D2)', () => {
  let root: string;
  let common: string[];
  const stateArgs = (state: string) => [...common, '--state', state];

  beforeAll(async () => {
    ({ root, common } = await loginProject());
  });

  const holdLock = async (state: string, pid: number) => {
    await mkdir(state, { recursive: true });
    await writeFile(
      join(state, RUN_LOCK),
      `${JSON.stringify({ command: 'run', pid, host: hostname(), started_at: '2026-12-04T20:00:00.000Z' })}\n`,
    );
  };

  it('a writing command on a folder another live command holds says it is busy, naming the lock and its holder, and writes nothing', async () => {
    const state = join(root, 'held');
    await holdLock(state, process.pid);

    for (const args of [['run', '--as-of', AS_OF], ['forget', 'ann'], ['report'], ['learn', 'active_users', 'a note']]) {
      const result = await cohorts(...args, ...stateArgs(state));

      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.join('\n')).toContain(
        `the state folder is busy: \`cohorts run\` (pid ${process.pid} on ${hostname()}, started 2026-12-04T20:00:00.000Z) holds ${join(state, RUN_LOCK)}`,
      );
    }
    expect(await readdir(state)).toEqual([RUN_LOCK]);
    // Read-only commands do not take the lock.
    expect((await cohorts('members', 'active_users', ...stateArgs(state))).stderr.join('\n')).not.toContain('is busy');
  });

  it('two runs at once: one refreshes, the other says the folder is busy', async () => {
    const state = join(root, 'race');

    const results = await Promise.all([
      cohorts('run', '--as-of', AS_OF, ...stateArgs(state)),
      cohorts('run', '--as-of', AS_OF, ...stateArgs(state)),
    ]);

    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(results.find((r) => r.code === 1)?.stderr.join('\n')).toContain('the state folder is busy');
    expect(existsSync(join(state, RUN_LOCK))).toBe(false);
  });

  it('a lock left by a process that has ended is taken over, and released after the run', async () => {
    const state = join(root, 'stale');
    const ended = spawnSync(process.execPath, ['-e', '0']).pid as number;
    await holdLock(state, ended);

    const result = await cohorts('run', '--as-of', AS_OF, ...stateArgs(state));

    expect(result.code).toBe(0);
    expect(existsSync(join(state, RUN_LOCK))).toBe(false);
  });

  it('run removes the temporary files and unfinished versions a crashed run left, and never counts them as versions', async () => {
    // Prepare: v1, then what a kill leaves: a temporary file, an unfinished v2 (members, no manifest), a stale CAS lock
    const state = join(root, 'leftovers');
    expect((await cohorts('run', '--as-of', AS_OF, ...stateArgs(state))).code).toBe(0);
    const cohort = join(state, 'snapshots', 'cohort=active_users');
    await mkdir(join(cohort, 'version=2'));
    await writeFile(join(cohort, 'version=2', 'members.parquet'), 'ann');
    await writeFile(join(cohort, 'version=2', '.tmp-0b7c5f0e-3d7e-4b58-9d3a-0a4c1f6f2f11'), 'ann');
    await writeFile(join(cohort, '.tmp-current.json.lock'), '');
    expect((await findLeftovers(state)).map((l) => l.kind)).toEqual(['temporary', 'temporary', 'partial-version']);

    // Act
    const result = await cohorts('run', '--as-of', '2024-06-02T00:00:00Z', ...stateArgs(state));

    // Assess: removed (and said so); v2 is no version, and its number is never given to another
    expect(result.code).toBe(0);
    expect(result.stderr).toContainEqual(`removed 3 files an interrupted command left in ${state} (2 temporary, 1 of unfinished versions)`);
    expect(await findLeftovers(state)).toEqual([]);
    expect(await readdir(join(cohort, 'version=2'))).toEqual([ABANDONED_FILE]);
    const history = (await cohorts('history', 'active_users', ...stateArgs(state))).stdout.join('\n');
    expect(history).toMatch(/^v3 \(current\)/m);
    expect(history).not.toMatch(/^v2/m);
  });
});
