import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { partitionFolderDate } from '../compiler/partition-date.ts';
import type { LakeView } from '../ports.ts';

/** Data files of a local event lake (SPEC section 1), by format. */
export interface LakeFiles {
  readonly root: string;
  readonly events: { readonly parquet: readonly string[]; readonly jsonl: readonly string[] };
  readonly identities: { readonly parquet: readonly string[]; readonly jsonl: readonly string[] };
  /** Every `dt` partition present, sorted. */
  readonly partitions: readonly string[];
  /** Entries of `events/` that are not `dt=YYYY-MM-DD` folders of a real date: never read. */
  readonly skipped: readonly string[];
}

/** One listing of the lake folder: the view the queries read, and the files its relations name. */
export interface LocalListedLake {
  readonly view: LakeView;
  readonly files: LakeFiles;
}

/** The lake folder does not exist or holds no events folder. */
export class LakeNotFoundError extends Error {
  override readonly name = 'LakeNotFoundError';
}

/** The data files among `names` of `folder`, by format (other files are not read). */
export function byFormat(names: readonly string[], folder: string) {
  const parquet: string[] = [];
  const jsonl: string[] = [];
  for (const name of names) {
    if (name.endsWith('.parquet')) parquet.push(join(folder, name));
    else if (name.endsWith('.jsonl') || name.endsWith('.jsonl.gz')) jsonl.push(join(folder, name));
  }
  return { parquet, jsonl };
}

/** The sorted entries of a folder; undefined when it is missing or not a folder. */
export async function list(folder: string): Promise<string[] | undefined> {
  try {
    return (await readdir(folder)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Finds every events and identities file of a lake folder. */
export async function findLakeFiles(lakeDir: string): Promise<LakeFiles> {
  const root = resolve(lakeDir);
  const eventsDir = join(root, 'events');
  const partitionDirs = await list(eventsDir);
  if (partitionDirs === undefined) {
    throw new LakeNotFoundError(
      `no event lake at ${lakeDir}: expected ${join(lakeDir, 'events')}/dt=YYYY-MM-DD/ (run \`cohorts sample-data\` to make one)`,
    );
  }
  const parquet: string[] = [];
  const jsonl: string[] = [];
  const partitions: string[] = [];
  const skipped: string[] = [];
  for (const dir of partitionDirs) {
    const date = partitionFolderDate(dir);
    const files = date === undefined ? undefined : await list(join(eventsDir, dir));
    if (date === undefined || files === undefined) {
      skipped.push(join(eventsDir, dir));
      continue;
    }
    partitions.push(date);
    const found = byFormat(files, join(eventsDir, dir));
    parquet.push(...found.parquet);
    jsonl.push(...found.jsonl);
  }
  const identityNames = (await list(join(root, 'identities'))) ?? [];
  return { root, events: { parquet, jsonl }, identities: byFormat(identityNames, join(root, 'identities')), partitions, skipped };
}
