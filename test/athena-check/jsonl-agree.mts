/**
 * The JSON Lines reading (shared/compiler/jsonl-columns.ts) on both engines: every line of
 * jsonl-lines.json is read by the DuckDB dialect on DuckDB and by the Athena dialect through the
 * emulation (transpile.py and its Trino macros), and each field, each property's text and
 * whether it is present must agree, with each other and with the line's `want`.
 *
 *   tsx jsonl-agree.mts PROJECT_DIR WORK_DIR PYTHON
 *
 * Prints `ok jsonl-reading N` or one `mismatch jsonl-reading ...` line per difference.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [projectArg, workArg, python] = process.argv.slice(2);
if (!projectArg || !workArg || !python) {
  console.error('usage: jsonl-agree.mts PROJECT_DIR WORK_DIR PYTHON');
  process.exit(2);
}
const project = resolve(projectArg);
const work = resolve(workArg);
const here = join(project, 'test/athena-check');
const load = (path: string) => import(pathToFileURL(join(project, path)).href);
const { DuckDBInstance } = await load('node_modules/@duckdb/node-api/lib/index.js');
const { duckdbDialect } = await load('shared/compiler/duckdb-dialect.ts');
const { athenaDialect } = await load('shared/compiler/athena-dialect.ts');
const { jsonlEventsQuery } = await load('shared/compiler/jsonl-columns.ts');
const { stringLiteral } = await load('shared/compiler/sql-text.ts');

interface Case {
  readonly line: string;
  /** Expected fields (SPEC readings); only the keys given are checked; `row: false` for no row. */
  readonly want: Readonly<Record<string, string | number | boolean | null>>;
}
const cases = JSON.parse(readFileSync(join(here, 'jsonl-lines.json'), 'utf8')) as Case[];
const PROPERTIES = ['x', 'y', 'z', 'w', 'n', 's', 'k'];

type Dialect = typeof duckdbDialect;
/** Every field and property of every line, in line order (`n`). */
function query(d: Dialect): string {
  const lines = cases.map((c, i) => `(${i}, ${stringLiteral(c.line)})`).join(', ');
  const events = jsonlEventsQuery(d, { from: `(VALUES ${lines}) AS t(n, line)`, line: 'line', keep: ['n'] });
  const props = PROPERTIES.flatMap((p, i) => [`${d.scalarText(d.propertyJson(i))} AS p_${p}`, `${d.present(d.propertyJson(i))} AS x_${p}`]);
  // The properties of each row are extracted as the compiled query does (Dialect.extractProperties).
  return (
    `SELECT n, event_id, source, user_id, event_name, CAST(ts IS NULL AS VARCHAR) AS ts_null, value, ${props.join(', ')} ` +
    `FROM (SELECT *, ${d.extractProperties('properties', PROPERTIES).join(', ')} FROM (${events}) AS e) AS r ORDER BY n`
  );
}

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const db = await instance.connect();
const rows = async (sql: string) => (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];

const local = await rows(query(duckdbDialect));
writeFileSync(join(work, 'jsonl-plan.json'), JSON.stringify({ query: query(athenaDialect) }));
execFileSync(
  python,
  [join(here, 'transpile.py'), join(work, 'jsonl-plan.json'), join(work, 'jsonl-query.sql'), join(work, 'jsonl-macros.sql')],
  { stdio: 'inherit' },
);
for (const statement of readFileSync(join(work, 'jsonl-macros.sql'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== ''))
  await db.run(statement);
const athena = await rows(readFileSync(join(work, 'jsonl-query.sql'), 'utf8'));

const same = (a: unknown, b: unknown) => Object.is(a, b);
const byLine = (result: Record<string, unknown>[]) => new Map(result.map((r) => [Number(r.n), r]));
const [localRows, athenaRows] = [byLine(local), byLine(athena)];
let problems = 0;
cases.forEach((c, i) => {
  const [l, a] = [localRows.get(i), athenaRows.get(i)];
  if (c.want.row === false || l === undefined || a === undefined) {
    if (c.want.row !== false || l !== undefined || a !== undefined) {
      problems += 1;
      console.log(
        `mismatch jsonl-reading line ${i}: a row on duckdb ${l !== undefined}, on athena ${a !== undefined}, wanted ${c.want.row !== false}`,
      );
    }
    return;
  }
  for (const key of Object.keys(l)) {
    if (!same(l[key], a[key])) {
      problems += 1;
      console.log(
        `mismatch jsonl-reading line ${i} ${key}: duckdb ${JSON.stringify(l[key])}, athena ${JSON.stringify(a[key])} (${c.line.slice(0, 80)})`,
      );
    }
  }
  for (const [key, want] of Object.entries(c.want)) {
    if (!same(l[key], want)) {
      problems += 1;
      console.log(
        `mismatch jsonl-reading line ${i} ${key}: got ${JSON.stringify(l[key])}, the reading says ${JSON.stringify(want)} (${c.line.slice(0, 80)})`,
      );
    }
  }
});
if (problems === 0) console.log(`ok jsonl-reading ${cases.length}`);
