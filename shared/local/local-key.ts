import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BlobStore, PrivacyKeySource } from '../ports.ts';
import { PrivacyConfigError } from '../privacy/ports.ts';
import { parseKeyRing } from '../privacy/privacy-key.ts';
import { insideFolder } from './inside-folder.ts';

/** Where erasure records' salt was kept before the key moved out of the state folder. */
export const LEGACY_SALT_KEY = 'privacy/salt';

/** The default key file: `$XDG_CONFIG_HOME/cohort-refresh/privacy-key` (`~/.config/...` without it). */
export function defaultKeyFile(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const config = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(config, 'cohort-refresh', 'privacy-key');
}

const missing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The local privacy key: a file outside the state folder (refused inside it), created once with
 * mode 0600 (its folder 0700). A salt an older version kept at `<state>/privacy/salt` is moved
 * into it: it becomes the key when there is no key file yet, or an older key of the ring
 * otherwise, so the records made with it are still recognised; then it is deleted from the
 * state folder (left in place, still used, only where the folder is read-only).
 */
export function localKeyFile(file: string, state: { readonly folder: string; readonly blobs: BlobStore }): PrivacyKeySource {
  const path = resolve(file);
  if (insideFolder(state.folder, path)) {
    throw new PrivacyConfigError(
      `the privacy key file ${path} is inside the state folder ${resolve(state.folder)}: keep it where readers of the state folder cannot read it (--privacy-key FILE)`,
    );
  }
  const read = async () => readFile(path, 'utf8').catch((error: unknown) => (missing(error) ? undefined : Promise.reject(error)));
  const create = async (text: string) => {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    try {
      await writeFile(path, text, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      // Another process made it first: theirs is used.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  };
  return {
    where: path,
    async load(mayCreate) {
      const legacy = (await state.blobs.get(LEGACY_SALT_KEY))
        ? Buffer.from((await state.blobs.get(LEGACY_SALT_KEY)) as Uint8Array)
            .toString('utf8')
            .trim()
        : undefined;
      let text = await read();
      if (legacy !== undefined) {
        if (text === undefined) await create(`${legacy}\n`);
        else if (!parseKeyRing(text, path).includes(legacy)) await appendFile(path, `${text.endsWith('\n') ? '' : '\n'}${legacy}\n`);
        await chmod(path, 0o600);
        const legacyFile = state.blobs.locate(LEGACY_SALT_KEY);
        await unlink(legacyFile).catch((error: NodeJS.ErrnoException) => {
          if (!missing(error) && error.code !== 'EROFS' && error.code !== 'EACCES' && error.code !== 'EPERM') throw error;
        });
        text = await read();
      }
      if (text === undefined) {
        if (!mayCreate) return undefined;
        await create(`${randomBytes(32).toString('hex')}\n`);
        text = (await read()) as string;
      }
      return parseKeyRing(text, path);
    },
  };
}
