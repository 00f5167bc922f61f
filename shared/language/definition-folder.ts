import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceText } from './actions.ts';
import { type DefinitionProblem, unreadableFile } from './errors.ts';

/** A file of the definitions folder, read, or why it cannot be (the problem names its path). */
export type ReadFile = SourceText | DefinitionProblem;

/** A file's text, or why it cannot be read (a folder named `x.yaml`, a dangling link). */
export async function readFolderFile(path: string, what: string): Promise<ReadFile> {
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (error) {
    return { file: path, message: unreadableFile(error as NodeJS.ErrnoException, what) };
  }
}

/**
 * The files of a sub-folder of the definitions folder (`actions/`, `lists/`) whose names `accept`
 * takes, sorted by name, each read or why not. No such folder is no files; a folder that cannot
 * be read (a file of that name, no permission) is one problem at its path, like any bad input.
 */
export async function readSubFolder(
  folder: string,
  accept: (name: string) => boolean,
  what: { readonly folder: string; readonly file: string },
): Promise<ReadFile[]> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter(accept).sort();
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    if (failure.code === 'ENOENT') return [];
    const message =
      failure.code === 'ENOTDIR'
        ? `is a file, not ${what.folder}: rename or move it`
        : `${unreadableFile(failure, what.folder)}: make ${what.folder} readable`;
    return [{ file: folder, message }];
  }
  return Promise.all(names.map((name) => readFolderFile(join(folder, name), what.file)));
}

/** Whether a read file is a problem rather than a text. */
export const isProblem = (file: ReadFile): file is DefinitionProblem => 'message' in file;
