import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const MAIN = fileURLToPath(new URL('../../shared/cli/main.ts', import.meta.url));
const TSX_LOADER = require.resolve('tsx');

/** A `cohorts` command running as its own process, with what it printed so far (colours off). */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once stdout (or stderr) matches, rejects when it has not after `timeoutMs` or the process ended. */
  waitFor(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<string>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `cohorts ...argv` as a child process (node with tsx), as a user's terminal would. */
export function startCli(argv: readonly string[]): CliProcess {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN, ...argv], {
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async waitFor(pattern, timeoutMs = 60_000, stream = 'stdout') {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = stream === 'stdout' ? out : err;
        const match = pattern.exec(text);
        if (match) return match[0];
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`no ${pattern} in ${stream} after ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop(signal = 'SIGINT') {
      child.kill(signal);
      return exited;
    },
  };
}
