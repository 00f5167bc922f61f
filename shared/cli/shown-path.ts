import { relative, resolve } from 'node:path';
import { insideFolder } from '../local/inside-folder.ts';

/**
 * A path as the command line shows it: relative to the working folder when it lies under it
 * (`.cohorts/report/index.html`), absolute otherwise, however it was given (`--state /abs/...`,
 * `--state ./.cohorts`), so every line of one command names its files alike.
 */
export function shownPath(path: string, cwd = process.cwd()): string {
  const absolute = resolve(cwd, path);
  return absolute !== resolve(cwd) && insideFolder(cwd, absolute) ? relative(cwd, absolute) : absolute;
}

/**
 * A location a store names (a local path, or a URL such as `s3://bucket/key` in the cloud) as the command
 * line shows it: a path as {@link shownPath} does, a URL as it is.
 */
export function shownLocation(location: string, cwd = process.cwd()): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location) ? location : shownPath(location, cwd);
}
