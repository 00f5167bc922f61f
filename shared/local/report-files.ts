import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileWriteError } from './file-error.ts';
import { makeFolder } from './make-folder.ts';

/**
 * Writes report files into a folder (created when missing). Each file is written beside its
 * target and renamed into place, so a browser never opens half a page.
 */
export async function writeReport(outDir: string, files: Record<string, string>): Promise<string[]> {
  const root = resolve(outDir);
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const target = resolve(root, name);
    if (!target.startsWith(root + sep)) throw new Error(`report file name escapes the output folder: ${name}`);
    await makeFolder(dirname(target));
    const temp = join(dirname(target), `.${process.pid}-${Date.now()}.tmp`);
    await writeFile(temp, text, 'utf8').catch(async (error: unknown) => {
      await unlink(temp).catch(() => undefined);
      throw fileWriteError(error, target, root);
    });
    await rename(temp, target);
    written.push(target);
  }
  return written;
}
