import { basename } from 'node:path';
import { describe } from 'vitest';
import { checkConformanceCase } from '../support/conformance-case.ts';
import { allCaseDirs } from '../support/conformance.ts';

describe.each(allCaseDirs().map((dir) => [basename(dir), dir] as const))('conformance case %s', (_name, dir) => {
  checkConformanceCase(dir);
});
