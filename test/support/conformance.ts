import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** `../shared/conformance` beside the checkout: the contract's cases with known answers. */
export const CONFORMANCE_ROOT = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'conformance');

if (!existsSync(CONFORMANCE_ROOT)) {
  throw new Error(`conformance cases not found at ${CONFORMANCE_ROOT}: check out the brief's shared/ folder beside this repository`);
}

/** Names of the sub-folders of a conformance folder. */
export function caseNames(kind: 'cases' | 'invalid'): string[] {
  return readdirSync(join(CONFORMANCE_ROOT, kind), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}
