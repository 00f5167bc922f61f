import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cohorts, loginProject } from '../support/cli.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

const login = (id: string, user: string, ts: string) =>
  JSON.stringify({ event_id: id, source: 'product', user_id: user, event_name: 'login', ts });

describe('cohorts ingest', () => {
  it('appends the valid lines, names each refused one with its line number, exits 1, and the next run reads the new events and warns of the refused', async () => {
    // Prepare: a login of carl an hour ago, and a line without a ts
    const { root, common } = await loginProject();
    const state = ['--state', join(root, 'state')];
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const file = join(root, 'new.jsonl');
    await writeFile(file, `${login('10', 'carl', hourAgo)}\n{"event_id":"11","source":"product","user_id":"dan","event_name":"login"}\n`);
    // Act
    const ingest = await cohorts('ingest', file, ...common);
    // Assess
    expect(ingest.code).toBe(1);
    expect(ingest.stderr).toContain(`${file}:2: refused: ts missing or not YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)`);
    const written = ingest.stdout[0] as string;
    expect(written).toMatch(new RegExp(`/data/events/dt=${hourAgo.slice(0, 10)}/ingest-[0-9TZ]+-[0-9a-f]{8}\\.jsonl: 1 event$`));
    expect(await readFile(written.replace(/: 1 event$/, ''), 'utf8')).toBe(`${login('10', 'carl', hourAgo)}\n`);
    expect(ingest.stderr.at(-1)).toMatch(
      /^ingested 1 event into 1 partition; 1 line refused, kept in .*\/events-errors\/ingest-refused\/dt=/,
    );

    const run = await cohorts('run', ...common, ...state);
    expect(run.code).toBe(0);
    expect(run.stdout.join('\n')).toMatch(/warning: lake: 1 file of refused records arrived from .* under .*events-errors\//);
    expect((await cohorts('members', 'active_users', ...common, ...state)).stdout).toEqual(['carl']);
  });

  it('reads a gzip file and exits 0 when every line is kept; refuses a file that is not UTF-8 as a whole', async () => {
    const { root, common } = await loginProject();
    const gz = join(root, 'new.jsonl.gz');
    await writeFile(gz, gzipSync(`${login('20', 'eve', '2024-05-31T12:00:00+02:00')}\n\n`));

    const ok = await cohorts('ingest', gz, ...common);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toHaveLength(1);
    expect(ok.stdout[0]).toContain('/events/dt=2024-05-31/');
    expect(ok.stderr).toEqual(['ingested 1 event into 1 partition']);

    const latin1 = join(root, 'latin1.jsonl');
    await writeFile(latin1, Buffer.from([0x7b, 0xe9, 0x7d, 0x0a]));
    const bad = await cohorts('ingest', latin1, ...common);
    expect(bad.code).toBe(1);
    expect(bad.stderr.join('\n')).toContain(`${latin1} is not UTF-8 text`);
    expect(bad.stdout).toEqual([]);
  });

  it('names a missing file or a folder as such, with what ingest reads, and writes nothing', async () => {
    const { root, common } = await loginProject();
    const missing = await cohorts('ingest', join(root, 'nope.jsonl'), ...common);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toEqual([
      `${join(root, 'nope.jsonl')}: no such file; cohorts ingest reads a JSON Lines file (gzip too), or - for standard input`,
    ]);
    const folder = await cohorts('ingest', root, ...common);
    expect(folder.stderr.join('\n')).toContain(`${root}: a folder, not a file;`);
    expect(await readdir(join(root, 'data'))).not.toContain('events-errors');
  });

  it("removes a killed ingest's temporary files unchanged for over an hour, says so, and keeps a recent one", async () => {
    // Prepare: what an ingest killed between its write and its link leaves, two hours old, and a live ingest's
    const { root, common } = await loginProject();
    const day = join(root, 'data', 'events', 'dt=2024-05-29');
    await mkdir(day, { recursive: true });
    const killed = join(day, '.tmp-0c4f6a2e-58f1-4b1e-9d0a-3f1e2d4c5b6a');
    const live = join(day, '.tmp-7d2e1f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a');
    await writeFile(killed, `${login('40', 'gus', '2024-05-29T08:00:00Z')}\n`);
    await writeFile(live, `${login('41', 'hal', '2024-05-29T09:00:00Z')}\n`);
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    await utimes(killed, twoHoursAgo, twoHoursAgo);
    const file = join(root, 'new.jsonl');
    await writeFile(file, `${login('42', 'ivy', '2024-05-29T10:00:00Z')}\n`);
    // Act
    const ingest = await cohorts('ingest', file, ...common);
    // Assess
    expect(ingest.code).toBe(0);
    expect(ingest.stderr).toEqual([
      `removed 1 temporary file an interrupted ingest left in ${join(root, 'data')} (unchanged for over an hour)`,
      'ingested 1 event into 1 partition',
    ]);
    const names = await readdir(day);
    expect(names).not.toContain('.tmp-0c4f6a2e-58f1-4b1e-9d0a-3f1e2d4c5b6a');
    expect(names).toContain('.tmp-7d2e1f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a');
  });

  it('reads standard input for - (real process)', async () => {
    const { root } = await loginProject();
    const data = join(root, 'data');
    const result = spawnSync(process.execPath, [join(REPO, 'bin', 'cohorts.mjs'), 'ingest', '-', '--data', data], {
      encoding: 'utf8',
      input: `${login('30', 'fay', '2024-05-30T08:00:00Z')}\nnope\n`,
      env: { ...process.env, NO_COLOR: '1' },
    });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('-:2: refused: not one JSON object with the event columns (SPEC section 1)');
    const added = (await readdir(join(data, 'events', 'dt=2024-05-30'))).filter((name) => name.startsWith('ingest-'));
    expect(added).toHaveLength(1);
    expect(await readFile(join(data, 'events', 'dt=2024-05-30', added[0] as string), 'utf8')).toBe(
      `${login('30', 'fay', '2024-05-30T08:00:00Z')}\n`,
    );
  });
});
