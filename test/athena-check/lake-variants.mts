/**
 * Writes each case again with its lake converted by the project's test converter
 * (test/support/parquet-lake.ts) into every variant: Parquet with `ts` as TIMESTAMP, as
 * TIMESTAMPTZ, and a lake mixing JSONL with both (SPEC section 1 allows Parquet wherever JSONL
 * is). Each new case folder, OUT_DIR/<case>.<variant>, holds a copy of everything else of the
 * case (case.json, definitions/, expected/), so run.sh checks it like any case.
 *
 *   tsx lake-variants.mts OUT_DIR CASE_DIR...
 *
 * Prints the new case folders, one a line.
 */
import { cp, mkdir, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { LAKE_VARIANTS, writeLakeVariant } from '../support/parquet-lake.ts';

const [outArg, ...caseArgs] = process.argv.slice(2);
if (!outArg || caseArgs.length === 0) {
  console.error('usage: lake-variants.mts OUT_DIR CASE_DIR...');
  process.exit(2);
}

// Not parquet-sparse yet: run-duckdb.mts's events_parquet view names every column, so a file
// without `properties` or `value` fails the DuckDB run, where Trino's Hive Parquet reader gives
// NULL for a column the file lacks (ParquetPageSourceFactory.createParquetPageSource: addNullColumn).
const variants = LAKE_VARIANTS.filter((variant) => variant !== 'parquet-sparse');

for (const caseArg of caseArgs) {
  const caseDir = resolve(caseArg);
  for (const variant of variants) {
    const target = join(resolve(outArg), `${basename(caseDir)}.${variant}`);
    await mkdir(target, { recursive: true });
    for (const entry of await readdir(caseDir)) {
      if (entry !== 'lake') await cp(join(caseDir, entry), join(target, entry), { recursive: true });
    }
    await writeLakeVariant(join(caseDir, 'lake'), join(target, 'lake'), variant);
    console.log(target);
  }
}
