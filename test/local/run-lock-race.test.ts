import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { RUN_LOCK, StateBusyError, withRunLock } from '../../shared/local/run-lock.ts';

// The next link's source is removed first, as the lock holder's removeLeftovers does to another
// command's `run.lock.<uuid>.new` between its write and its link.
const race = vi.hoisted(() => ({ removeNext: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    link: async (from: string, to: string) => {
      if (race.removeNext > 0) {
        race.removeNext--;
        await actual.unlink(from);
      }
      return actual.link(from, to);
    },
  };
});

describe("the run lock when the holder removes a waiting command's temporary file", () => {
  let state: string;
  beforeEach(async () => {
    state = await mkdtemp(join(tmpdir(), 'cohorts-lock-race-'));
    race.removeNext = 0;
  });

  it('a command finding its temporary file removed under a live holder says the folder is busy', async () => {
    const holder = { command: 'run', pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
    await writeFile(join(state, RUN_LOCK), `${JSON.stringify(holder)}\n`);
    race.removeNext = 1;
    const work = vi.fn(async () => 'ran');
    await expect(withRunLock(state, 'run', work)).rejects.toBeInstanceOf(StateBusyError);
    expect(work).not.toHaveBeenCalled();
    expect(race.removeNext).toBe(0);
    expect((await readdir(state)).sort()).toEqual([RUN_LOCK]);
  });

  it('a free folder is still taken when the first temporary file went, and released after', async () => {
    race.removeNext = 1;
    await expect(withRunLock(state, 'run', async () => (await readdir(state)).includes(RUN_LOCK))).resolves.toBe(true);
    expect(await readdir(state)).toEqual([]);
  });

  it('gives up with the file system error when the temporary file keeps going', async () => {
    race.removeNext = 3;
    await expect(withRunLock(state, 'run', async () => 'ran')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(state)).toEqual([]);
  });
});
