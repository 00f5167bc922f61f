import { describe } from 'vitest';
import { checkConformanceCase } from '../support/conformance-case.ts';
import { caseNames } from '../support/conformance.ts';

describe.each(caseNames('cases'))('conformance case %s', (name) => {
  checkConformanceCase(name);
});
