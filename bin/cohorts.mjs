#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx cohorts` works right after `npm ci`, with no build step.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
// tsx's loader on node itself, not tsx's CLI: the CLI answers Ctrl-C with exit 130 even when the
// command stopped cleanly (watch, sample-data --stream) and exited 0.
const tsxLoader = pathToFileURL(require.resolve('tsx')).href;
const main = join(here, '..', 'shared', 'cli', 'main.ts');
// Ctrl-C reaches the CLI too (one process group): wait for it to stop and exit with its code.
process.on('SIGINT', () => undefined);
const result = spawnSync(process.execPath, ['--import', tsxLoader, main, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
