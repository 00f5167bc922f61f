import { isAbsolute, relative, resolve } from 'node:path';

/**
 * A path as the command line shows it: relative to the working folder when it lies under it
 * (`.cohorts/report/index.html`), absolute otherwise, however it was given (`--state /abs/...`,
 * `--state ./.cohorts`), so every line of one command names its files alike.
 */
export function shownPath(path: string, cwd = process.cwd()): string {
  const absolute = resolve(cwd, path);
  const under = relative(cwd, absolute);
  return under !== '' && !under.startsWith('..') && !isAbsolute(under) ? under : absolute;
}
