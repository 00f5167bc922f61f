import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { tempDir } from '../support/cli.ts';
import { checkConformanceCase } from '../support/conformance-case.ts';
import { CONFORMANCE_ROOT, caseNames } from '../support/conformance.ts';
import { LAKE_VARIANTS, writeLakeVariant } from '../support/parquet-lake.ts';

// SPEC section 1 allows Parquet wherever JSONL is: every public case, its lake written as
// Parquet (ts as TIMESTAMP, as TIMESTAMPTZ, and a mix of both with JSONL), must give exactly
// the same members. No case holds anything Parquet cannot express.
const runs = LAKE_VARIANTS.flatMap((variant) => caseNames('cases').map((name) => [name, variant] as const));

describe.each(runs)('conformance case %s with its lake written as %s', (name, variant) => {
  let folder: string | undefined;
  checkConformanceCase(join(CONFORMANCE_ROOT, 'cases', name), async (dir) => {
    folder = await tempDir('cohorts-lake-variant-');
    await writeLakeVariant(join(dir, 'lake'), join(folder, 'lake'), variant);
    return join(folder, 'lake');
  });
  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });
});
