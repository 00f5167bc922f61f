import { readdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cohorts, loginProject } from '../support/cli.ts';

/** Which writes find the disk full (Node's own error: ENOSPC from `write`, naming no file). */
const disk = vi.hoisted(() => ({ fullAt: undefined as ((path: string) => boolean) | undefined, full: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const filling = (path: unknown) => {
    if (!disk.full && disk.fullAt?.(String(path))) disk.full = true;
    return disk.full;
  };
  const writeFile: typeof fs.writeFile = async (path, ...rest) => (filling(path) ? Promise.reject(enospc()) : fs.writeFile(path, ...rest));
  const appendFile: typeof fs.appendFile = async (path, ...rest) =>
    filling(path) ? Promise.reject(enospc()) : fs.appendFile(path, ...rest);
  return { ...fs, writeFile, appendFile, default: { ...fs, writeFile, appendFile } };
});

const AS_OF = '2024-06-01T00:00:00Z';

describe('a full disk (F2, F4)', () => {
  let root: string;
  let common: string[];

  beforeAll(async () => {
    ({ root, common } = await loginProject());
  });

  afterEach(() => {
    disk.fullAt = undefined;
    disk.full = false;
  });

  it('a run whose alert cannot be written still says it on the terminal, and the next run alerts it', async () => {
    // GIVEN a disk that fills up when the first member list is written (in a version folder; the index of versions
    // before it is written): the failure alert cannot be written either
    const state = join(root, 'snapshot-full');
    disk.fullAt = (path) => path.startsWith(join(state, 'snapshots') + sep) && path.includes(`${sep}version=`);

    // WHEN a run fails there
    const failed = await cohorts('run', '--as-of', AS_OF, ...common, '--state', state);

    // THEN the error alert reached the terminal anyway, naming the file and what to do
    expect(failed.code).toBe(1);
    const text = failed.stderr.join('\n');
    expect(text).toMatch(/^\[error\] cohort refresh failed at /m);
    expect(text).toContain(`no space left on device (ENOSPC) writing ${join(state, 'snapshots', 'cohort=active_users', 'version=1')}`);
    expect(text).toContain(`free space under ${state} and run again`);
    expect(text).toContain(`this run's alert could not be written to ${state}: the next \`cohorts run\` alerts that it did not finish`);
    // ...and its record stays in the outbox, so that a later run can deliver it
    expect((await readdir(join(state, 'outbox'))).filter((name) => name.startsWith('run-'))).toHaveLength(1);

    // WHEN space is freed and the next run runs
    disk.fullAt = undefined;
    disk.full = false;
    const next = await cohorts('run', '--as-of', AS_OF, ...common, '--state', state);

    // THEN it alerts that the failed run did not finish, and empties the outbox
    expect(next.code).toBe(0);
    expect(next.stderr.join('\n')).toMatch(/^\[warn\] Refresh [0-9a-f-]{36} as of 2024-06-01T00:00:00.000Z ended without finishing$/m);
    expect(await readdir(join(state, 'outbox'))).toEqual([]);
  });

  it('a tiled run names the tile file it could not write and what to do', async () => {
    // GIVEN a disk that fills up at the first write under the state folder's tiles (a day's fingerprint, after its
    // Parquet file, which DuckDB writes: see the next test)
    const state = join(root, 'tiles-full');
    disk.fullAt = (path) => path.startsWith(join(state, 'tiles') + sep);

    // WHEN a run from tiles fails there
    const failed = await cohorts('run', '--tiles', '--as-of', AS_OF, ...common, '--state', state);

    // THEN the step, the file and what to do are named, as for a member list
    expect(failed.code).toBe(1);
    const text = failed.stderr.join('\n');
    expect(text).toMatch(/^\[error\] cohort refresh failed at Tiles: FileWriteError /m);
    expect(text).toMatch(
      new RegExp(
        `no space left on device \\(ENOSPC\\) writing ${join(state, 'tiles')}/[^ ]+\\.json: free space under ${join(state, 'tiles')}`,
      ),
    );
  });

  it("a command that cannot write the state folder's lock says so with what to do, and leaves no file", async () => {
    // GIVEN a state folder whose disk is full from the run lock on (Node's error names only the lock's temporary file;
    // a read-only folder fails the same write with EROFS)
    const state = join(root, 'lock-full');
    disk.fullAt = (path) => path.startsWith(join(state, 'run.lock'));

    // WHEN a run starts there
    const failed = await cohorts('run', '--as-of', AS_OF, ...common, '--state', state);

    // THEN it names the lock file, the folder and what to do, before anything is written
    expect(failed.code).toBe(1);
    expect(failed.stderr.at(-1)).toBe(
      `no space left on device (ENOSPC) writing ${join(state, 'run.lock')}: free space under ${state} and run again`,
    );
    expect(await readdir(state)).toEqual([]);
  });

  it('the report step names itself, the file and what to do', async () => {
    const state = join(root, 'report-full');
    disk.fullAt = (path) => path.startsWith(join(state, 'report') + sep);

    const result = await cohorts('run', '--as-of', AS_OF, ...common, '--state', state);

    expect(result.code).toBe(1);
    expect(result.stderr.at(-1)).toMatch(
      new RegExp(
        `^refresh [0-9a-f-]{36} is done, but the report step failed: no space left on device \\(ENOSPC\\) writing ${join(state, 'report')}/\\w+\\.html: free space under ${join(state, 'report')} and run again`,
      ),
    );
    // Nothing half-written is left behind
    expect(await readdir(join(state, 'report'))).toEqual([]);
  });
});
