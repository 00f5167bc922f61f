import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Data files of a local event lake (SPEC section 1), by format. */
export interface LakeFiles {
  readonly root: string;
  readonly events: { readonly parquet: readonly string[]; readonly jsonl: readonly string[] };
  readonly identities: { readonly parquet: readonly string[]; readonly jsonl: readonly string[] };
  /** Every `dt` partition present, sorted. */
  readonly partitions: readonly string[];
}

/** The lake folder does not exist or holds no events folder. */
export class LakeNotFoundError extends Error {
  override readonly name = 'LakeNotFoundError';
}

const PARTITION = /^dt=(\d{4}-\d{2}-\d{2})$/;

function byFormat(names: readonly string[], folder: string) {
  const parquet: string[] = [];
  const jsonl: string[] = [];
  for (const name of names) {
    if (name.endsWith('.parquet')) parquet.push(join(folder, name));
    else if (name.endsWith('.jsonl') || name.endsWith('.jsonl.gz')) jsonl.push(join(folder, name));
  }
  return { parquet, jsonl };
}

async function list(folder: string): Promise<string[] | undefined> {
  try {
    return (await readdir(folder)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Finds every events and identities file of a lake folder. */
export async function findLakeFiles(lakeDir: string): Promise<LakeFiles> {
  const root = resolve(lakeDir);
  const eventsDir = join(root, 'events');
  const partitionDirs = await list(eventsDir);
  if (partitionDirs === undefined) {
    throw new LakeNotFoundError(`no event lake at ${lakeDir}: expected ${join(lakeDir, 'events')}/dt=YYYY-MM-DD/ (run \`cohorts sample-data\` to make one)`);
  }
  const parquet: string[] = [];
  const jsonl: string[] = [];
  const partitions: string[] = [];
  for (const dir of partitionDirs) {
    const match = PARTITION.exec(dir);
    if (!match) continue;
    partitions.push(match[1] as string);
    const files = byFormat((await list(join(eventsDir, dir))) ?? [], join(eventsDir, dir));
    parquet.push(...files.parquet);
    jsonl.push(...files.jsonl);
  }
  const identityNames = (await list(join(root, 'identities'))) ?? [];
  return { root, events: { parquet, jsonl }, identities: byFormat(identityNames, join(root, 'identities')), partitions };
}
