import { type SpawnOptions, spawn } from 'node:child_process';

/** What `openInBrowser` looks at; tests pass their own. */
export interface OpenEnvironment {
  /** @default process.platform */
  readonly platform?: NodeJS.Platform;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default node:child_process spawn */
  readonly spawn?: (
    command: string,
    args: readonly string[],
    options: SpawnOptions,
  ) => { on(event: 'error', listener: (error: Error) => void): unknown; unref(): void };
}

/** The command that opens a file with the desktop's default application, or undefined without a desktop. */
export function openCommand(
  file: string,
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
): { command: string; args: string[] } | undefined {
  if (platform === 'darwin') return { command: 'open', args: [file] };
  // `start` is a cmd built-in; its first quoted argument is a window title, hence the empty one.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', file] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return { command: 'xdg-open', args: [file] };
}

/**
 * Opens a file in the default browser without waiting for it. Returns false, doing nothing,
 * when there is no display (a server, CI, ssh without X forwarding); a missing opener is ignored.
 */
export function openInBrowser(file: string, environment: OpenEnvironment = {}): boolean {
  const how = openCommand(file, environment.platform ?? process.platform, environment.env ?? process.env);
  if (!how) return false;
  const child = (environment.spawn ?? spawn)(how.command, how.args, { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  return true;
}
