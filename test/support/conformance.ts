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

/**
 * The project's own cases, laid out as the public ones: constructs the public cases do not reach
 * (the language of issue 16). Each sub-folder holding case.json is a case.
 */
export const PROJECT_CASES = resolve(import.meta.dirname, '..', 'cases');

/** Every case with known members: the public ones, then the project's own; names are unique. */
export function allCaseDirs(): string[] {
  const own = existsSync(PROJECT_CASES)
    ? readdirSync(PROJECT_CASES, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(PROJECT_CASES, entry.name, 'case.json')))
        .map((entry) => entry.name)
        .sort()
    : [];
  const clash = own.find((name) => caseNames('cases').includes(name));
  if (clash) throw new Error(`test/cases/${clash} has the name of a public conformance case: rename it`);
  return [...caseNames('cases').map((name) => join(CONFORMANCE_ROOT, 'cases', name)), ...own.map((name) => join(PROJECT_CASES, name))];
}
