import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Whether `path` is `folder` or under it (both resolved against the working folder). */
export function insideFolder(folder: string, path: string): boolean {
  const rel = relative(resolve(folder), resolve(path));
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}
