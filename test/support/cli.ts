import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Output } from '../../shared/cli/io.ts';
import { main } from '../../shared/cli/main.ts';

/** What one in-process `cohorts` invocation printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string[];
}

/** Colour codes: a terminal (or CI=true) gets them; assertions read the text. */
const plain = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, '');

/** Runs the CLI in-process, capturing its output as plain text; errors become exit code 1 like the real entry point. */
export async function cohorts(...argv: string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: Output = { out: (line) => stdout.push(plain(line)), err: (line) => stderr.push(plain(line)), interactive: false };
  try {
    const code = await main(argv, io);
    return { code, stdout, stderr };
  } catch (error) {
    stderr.push(error instanceof Error ? error.message : String(error));
    return { code: 1, stdout, stderr };
  }
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'cohorts-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}
