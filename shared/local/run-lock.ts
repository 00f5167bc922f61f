import { randomUUID } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileWriteError } from './file-error.ts';
import { makeFolder } from './make-folder.ts';

/** The lock file of a state folder: `<state>/run.lock`. */
export const RUN_LOCK = 'run.lock';

/** A takeover of a stale lock older than this was abandoned by a process that died during it (it lasts milliseconds). */
const STALE_TAKEOVER_MS = 10_000;

/** Who holds a state folder's run lock: the command (never its arguments, which may name people), process and host. */
export interface LockHolder {
  readonly command: string;
  readonly pid: number;
  readonly host: string;
  /** When it took the lock, ISO-8601 UTC. */
  readonly started_at: string;
}

/** Another live command holds the state folder's run lock. */
export class StateBusyError extends Error {
  override readonly name = 'StateBusyError';

  constructor(
    readonly lock: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder
      ? `\`cohorts ${holder.command}\` (pid ${holder.pid} on ${holder.host}, started ${holder.started_at})`
      : 'another cohorts command (its lock file is being written or taken over)';
    super(
      `the state folder is busy: ${who} holds ${lock}. Wait for it to finish and try again; ` +
        `a lock whose process has ended is taken over by the next command (on another host, delete the file once that command is gone)`,
    );
  }
}

/** Whether a process of this host is alive (EPERM: alive, but another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<{ holder: LockHolder | undefined; text: string } | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    try {
      return { holder: JSON.parse(text) as LockHolder, text };
    } catch {
      return { holder: undefined, text };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates `file` holding `text`, whole or not at all: false when it exists. The command holding the
 * lock removes leftovers, `run.lock.<uuid>.new` among them, so a temporary file gone before its link
 * was that command's cleanup (the lock is held): written again, its link then finds the lock.
 */
async function createWhole(file: string, text: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const temp = `${file}.${randomUUID()}.new`; // a crash here leaves it: removeLeftovers knows the name
    // A read-only or full state folder is named as such, with what to do (Node's message names the temporary file only).
    await writeFile(temp, text).catch((error: unknown) => {
      throw fileWriteError(error, file, dirname(file));
    });
    try {
      await link(temp, file);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'ENOENT' || attempt >= 3) throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }
}

/**
 * Takes the run lock of a state folder for one command, runs `work`, and releases it. Every
 * command that writes the state folder takes it, so two of them never interleave their writes
 * (version numbers, `current.json`, exports, erasure): the second fails at once with
 * {@link StateBusyError}, naming the lock file and its holder. A lock left by a process that has
 * ended (killed, crashed; same host) is taken over: under a second lock file
 * (`run.lock.takeover`), so two commands finding the same stale lock cannot both take it.
 */
export async function withRunLock<T>(state: string, command: string, work: () => Promise<T>): Promise<T> {
  const file = join(state, RUN_LOCK);
  await makeFolder(state);
  const mine: LockHolder = { command, pid: process.pid, host: hostname(), started_at: new Date().toISOString() };
  const text = `${JSON.stringify(mine)}\n`;
  await acquire(file, text);
  try {
    return await work();
  } finally {
    // Only our own lock: never one that another command took over meanwhile.
    if ((await readHolder(file))?.text === text) await unlink(file).catch(() => undefined);
  }
}

async function acquire(file: string, text: string): Promise<void> {
  if (await createWhole(file, text)) return;
  const seen = await readHolder(file);
  if (seen === undefined) {
    if (await createWhole(file, text)) return;
    throw new StateBusyError(file, (await readHolder(file))?.holder);
  }
  const { holder } = seen;
  if (holder === undefined || holder.host !== hostname() || alive(holder.pid)) throw new StateBusyError(file, holder);
  // Stale: its process has ended. Take it over under the takeover lock.
  const takeover = `${file}.takeover`;
  const age = await stat(takeover).then(
    (s) => Date.now() - s.mtimeMs,
    () => undefined,
  );
  if (age !== undefined && age > STALE_TAKEOVER_MS) await unlink(takeover).catch(() => undefined);
  if (!(await createWhole(takeover, text))) throw new StateBusyError(file, undefined);
  try {
    if ((await readHolder(file))?.text !== seen.text) throw new StateBusyError(file, (await readHolder(file))?.holder);
    await unlink(file);
    if (!(await createWhole(file, text))) throw new StateBusyError(file, (await readHolder(file))?.holder);
  } finally {
    await unlink(takeover).catch(() => undefined);
  }
}
