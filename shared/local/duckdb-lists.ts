import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringLiteral } from '../compiler/sql-text.ts';
import { LIST_FILE, LISTS_FOLDER } from '../language/uploaded-lists.ts';
import { lines } from './duckdb-lake.ts';

const NO_LISTS = 'SELECT CAST(NULL AS VARCHAR) AS list_name, CAST(NULL AS VARCHAR) AS entry WHERE FALSE';

/** The list files of a definitions folder (`lists/<name>.csv`), by name; none without the folder. */
export async function findListFiles(definitions: string): Promise<{ readonly name: string; readonly path: string }[]> {
  const folder = join(definitions, LISTS_FOLDER);
  const names = await readdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names.sort().flatMap((file) => {
    const name = LIST_FILE.exec(file)?.[1];
    return name === undefined ? [] : [{ name, path: join(folder, file) }];
  });
}

/**
 * The lake relation of the uploaded lists (`list_name`, `entry`): each line of each file as
 * written, read as the Athena table reads the bucket's `lists/` (Hive's text reader: no quoting,
 * `\N` is NULL), so both engines normalize the same text.
 */
export function duckdbListsRelation(files: readonly { readonly name: string; readonly path: string }[]): string {
  if (files.length === 0) return `(${NO_LISTS})`;
  const parts = files.map(({ name, path }) => `SELECT ${stringLiteral(name)} AS list_name, line AS entry FROM ${lines([path], false)}`);
  return `(${parts.join(' UNION ALL ')})`;
}
