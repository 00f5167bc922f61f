import pc from 'picocolors';
import { openDuckDb } from '../local/open-duckdb.ts';
import { formatVerdict } from '../fixtures/format-verdicts.ts';
import { FIXTURE_FOLDER, fixtureFiles, loadFixtures } from '../fixtures/load-fixtures.ts';
import { fixtureCatalogProblems } from '../fixtures/parse-fixture.ts';
import { runFixture } from '../fixtures/run-fixture.ts';
import { loadCatalog } from '../language/catalog.ts';
import { formatProblem, InvalidDefinitionsError } from '../language/errors.ts';
import { DuckDbEngine } from '../local/duckdb-engine.ts';
import { duckdbFixtureLakes } from '../local/fixture-lake.ts';
import type { Folders, Output } from './io.ts';
import { UsageError } from './errors.ts';
import { readNamedFile } from './named-file.ts';

/**
 * `cohorts test [FILE]...`: runs the fixture tests kept in `<definitions>/tests/` (or the files
 * given) through the real compiler and DuckDB. Exit 0 when every test passes, 1 when one fails or a
 * test file is invalid (one `path:line:col: message` line per problem).
 */
export async function testCommand(folders: Pick<Folders, 'definitions'>, files: readonly string[], io: Output): Promise<number> {
  const catalog = await loadCatalog(folders.definitions);
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  for (const file of files) await readNamedFile(file, 'cohorts test runs fixture test files (*.test.yaml)');
  const paths = files.length > 0 ? files : await fixtureFiles(folders.definitions);
  if (paths.length === 0)
    throw new UsageError(`no fixture tests in ${folders.definitions}/${FIXTURE_FOLDER}/ (write one as a *.test.yaml file there)`);
  const loaded = await loadFixtures(paths);
  const problems = [...loaded.problems, ...loaded.fixtures.flatMap((f) => fixtureCatalogProblems(f, catalog.definitions))];
  if (problems.length > 0) {
    for (const problem of problems) io.out(formatProblem(problem));
    return 1;
  }
  const connection = await openDuckDb();
  try {
    const lakes = duckdbFixtureLakes(connection, await DuckDbEngine.describe(connection));
    let failed = 0;
    for (const [index, fixture] of loaded.fixtures.entries()) {
      const verdict = await runFixture(fixture, catalog.definitions, lakes, `fixture_${index + 1}`);
      if (!verdict.passed) failed++;
      for (const line of formatVerdict(verdict)) io.out(line);
    }
    const total = loaded.fixtures.length;
    io.out(failed === 0 ? pc.green(`${total} fixture tests passed`) : pc.red(`${failed} of ${total} fixture tests failed`));
    return failed === 0 ? 0 : 1;
  } finally {
    connection.closeSync();
  }
}
