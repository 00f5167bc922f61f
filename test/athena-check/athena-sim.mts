/**
 * Statements as Athena runs them, on the emulation's DuckDB: each Trino text is transpiled by
 * transpile.py (one `--serve` process per case); queries run as they are, and writes are
 * emulated as Athena's Hive tables do them:
 *
 * - `CREATE TABLE t WITH (format = 'PARQUET') AS <query>` creates `t`; a column Hive cannot store
 *   fails the statement (Trino's HiveTypeTranslator has no Hive type for `timestamp with time zone`;
 *   Athena writes Hive timestamps at millisecond precision only, HiveMetadata
 *   validateTimestampColumns), and so does a format other than Parquet.
 * - `INSERT INTO t [(columns)] <query>` into a table of `tables` (Parquet at an S3 location, at most
 *   one partition key): the query's columns go to the listed columns (all, in table order, when
 *   none are listed) by position, as Trino's INSERT does; each query type must coerce implicitly
 *   to its column's Glue type (else "Insert query has mismatched column types"); the rows become
 *   new Parquet files under the table's location, in `<key>=<value>/` folders when partitioned.
 *   The table reads back every file under its location (what the S3 fake has not deleted), with
 *   its Glue types.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A DuckDB connection of @duckdb/node-api (loaded from the project's node_modules). */
export interface Db {
  run(sql: string): Promise<unknown>;
  runAndReadAll(sql: string): Promise<{ getRowsJS(): unknown[][]; columnNames(): string[] }>;
}

/** A Glue table over Parquet that INSERT INTO writes: its folder, columns (Hive types) and partition key. */
export interface GlueTable {
  /** The local folder standing for the table's S3 location. */
  readonly location: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** The partition key (a `string` column, last); none for an unpartitioned table. */
  readonly partition?: string;
}

const DUCK_TYPE: Record<string, string> = { string: 'VARCHAR', bigint: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN' };

/**
 * The DuckDB types of a query's columns that Trino coerces implicitly to a Glue type (TypeCoercion:
 * integers widen, integers and decimals to double; NULL is Trino's `unknown`). DuckDB's sum of
 * integers is a HUGEINT where Trino's is a bigint.
 */
const COERCES: Record<string, RegExp> = {
  string: /^(VARCHAR|"NULL")$/,
  bigint: /^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|"NULL")$/,
  double: /^(DOUBLE|FLOAT|BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|DECIMAL\(\d+,\d+\)|"NULL")$/,
  boolean: /^(BOOLEAN|"NULL")$/,
};

/** Why Trino cannot write a DuckDB column type into a Hive table, if it cannot. */
function hiveRefusal(type: string): string | undefined {
  if (type.startsWith('TIMESTAMP WITH TIME ZONE')) return 'NOT_SUPPORTED: Unsupported Hive type: timestamp(6) with time zone';
  if (type.startsWith('TIMESTAMP')) return 'Incorrect timestamp precision for timestamp(6); the configured precision is MILLISECONDS';
  return undefined;
}

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;
const quoted = (name: string) =>
  name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');

interface Transpiled {
  readonly kind?: 'query' | 'insert' | 'ctas';
  readonly table?: string;
  readonly columns?: string[] | null;
  readonly properties?: { readonly format?: string; readonly partitioned_by?: string[] };
  readonly sql?: string;
  readonly error?: string;
}

/** A statement Athena would refuse or fail. */
export class AthenaFailure extends Error {}

/** Athena (Trino) statements on DuckDB, through one transpile.py process. */
export class AthenaSim {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private writes = 0;
  /** How many statements were transpiled (each one sqlglot parse). */
  statements = 0;

  constructor(
    private readonly db: Db,
    python: string,
    transpiler: string,
    /** The Glue tables INSERT INTO writes, by `database.table`. */
    private readonly tables: Readonly<Record<string, GlueTable>>,
  ) {
    this.child = spawn(python, [transpiler, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  close(): void {
    this.child.stdin.end();
  }

  private async transpile(sql: string): Promise<Transpiled> {
    this.statements += 1;
    // The S3 fake may have deleted files since: every statement sees the tables' files as they are.
    for (const name of Object.keys(this.tables)) await this.refreshView(name);
    const started = Date.now();
    return new Promise((resolve) => {
      this.waiting.push((line) => {
        this.timing(`transpiled ${sql.length} characters`, started);
        resolve(JSON.parse(line) as Transpiled);
      });
      this.child.stdin.write(`${JSON.stringify({ sql })}\n`);
    });
  }

  /** XCHECK_TIMING=1: how long each step took, on stderr. */
  private timing(what: string, started: number): void {
    if (process.env.XCHECK_TIMING === '1') console.error(`${what}: ${Date.now() - started} ms`);
  }

  /** Runs a Trino SELECT; its rows as DuckDB gives them, and the column names. */
  async query(sql: string): Promise<{ columns: string[]; rows: unknown[][] }> {
    const t = await this.transpile(sql);
    if (t.error || t.kind !== 'query' || !t.sql) throw new AthenaFailure(t.error ?? `not a query: ${t.kind}`);
    let reader: Awaited<ReturnType<Db['runAndReadAll']>>;
    try {
      const started = Date.now();
      reader = await this.db.runAndReadAll(t.sql);
      this.timing('query', started);
    } catch (error) {
      throw new AthenaFailure(`the query failed: ${(error as Error).message.split('\n')[0]}`);
    }
    return { columns: reader.columnNames(), rows: reader.getRowsJS() };
  }

  /**
   * Not Athena: keeps a Trino query's rows in a DuckDB table `name` (any column types), for the
   * emulation to read instead of running the same query text again and again.
   */
  async materialize(name: string, sql: string): Promise<void> {
    const t = await this.transpile(sql);
    if (t.error || t.kind !== 'query' || !t.sql) throw new AthenaFailure(t.error ?? `not a query: ${t.kind}`);
    const started = Date.now();
    await this.db.run(`CREATE OR REPLACE TABLE ${quoted(name)} AS ${t.sql}`);
    this.timing(`materialized ${name}`, started);
  }

  /** Runs a CTAS or an INSERT INTO as Athena would. */
  async execute(sql: string): Promise<void> {
    const t = await this.transpile(sql);
    if (t.error || !t.sql || !t.table || (t.kind !== 'ctas' && t.kind !== 'insert')) {
      throw new AthenaFailure(t.error ?? `not a CTAS or INSERT: ${sql.slice(0, 60)}`);
    }
    const stage = 'athena_sim_stage';
    try {
      const started = Date.now();
      await this.db.run(`CREATE OR REPLACE TEMP TABLE ${stage} AS ${t.sql}`);
      this.timing(`${t.kind} ${t.table}`, started);
    } catch (error) {
      throw new AthenaFailure(`the query of ${t.kind} ${t.table} failed: ${(error as Error).message.split('\n')[0]}`);
    }
    try {
      const columns = (await this.db.runAndReadAll(`DESCRIBE ${stage}`)).getRowsJS().map((r) => [String(r[0]), String(r[1])] as const);
      if (t.kind === 'ctas') await this.createTableAs(t, stage, columns);
      else await this.insertInto(t, stage, columns);
    } finally {
      await this.db.run(`DROP TABLE IF EXISTS ${stage}`);
    }
  }

  private async createTableAs(t: Transpiled, stage: string, columns: readonly (readonly [string, string])[]): Promise<void> {
    if (t.properties?.format !== 'PARQUET') throw new AthenaFailure(`CTAS ${t.table}: format ${t.properties?.format} is not PARQUET`);
    for (const [name, type] of columns) {
      const refusal = hiveRefusal(type);
      if (refusal) throw new AthenaFailure(`CTAS ${t.table}: column ${name}: ${refusal}`);
    }
    await this.db.run(`CREATE TABLE ${quoted(t.table as string)} AS SELECT * FROM ${stage}`);
  }

  private async insertInto(t: Transpiled, stage: string, columns: readonly (readonly [string, string])[]): Promise<void> {
    const name = t.table as string;
    const table = this.tables[name];
    if (!table) throw new AthenaFailure(`INSERT INTO ${name}: no such table`);
    const all = [...table.columns, ...(table.partition ? [{ name: table.partition, type: 'string' }] : [])];
    const listed = t.columns ?? all.map((c) => c.name);
    if (listed.length !== columns.length) {
      throw new AthenaFailure(`INSERT INTO ${name}: Insert query has ${columns.length} columns, ${listed.length} listed`);
    }
    const source = new Map(listed.map((column, i) => [column, columns[i] as readonly [string, string]]));
    for (const column of listed)
      if (!all.some((c) => c.name === column)) throw new AthenaFailure(`INSERT INTO ${name}: no column ${column}`);
    const items = all.map(({ name: column, type: glue }) => {
      const from = source.get(column);
      const duck = DUCK_TYPE[glue];
      if (!duck) throw new AthenaFailure(`INSERT INTO ${name}: Glue type ${glue} of ${column} is not modelled`);
      if (!from) return `CAST(NULL AS ${duck}) AS "${column}"`;
      if (!(COERCES[glue] as RegExp).test(from[1])) {
        throw new AthenaFailure(
          `INSERT INTO ${name}: Insert query has mismatched column types: ${column} is ${glue}, the query gives ${from[1]}`,
        );
      }
      return `CAST("${from[0]}" AS ${duck}) AS "${column}"`;
    });
    this.writes += 1;
    const files = table.partition
      ? `${sqlString(table.location)} (FORMAT parquet, PARTITION_BY ("${table.partition}"), OVERWRITE_OR_IGNORE true, FILENAME_PATTERN 'insert${this.writes}_{uuid}')`
      : `${sqlString(join(table.location, `insert${this.writes}.parquet`))} (FORMAT parquet)`;
    mkdirSync(table.location, { recursive: true });
    await this.db.run(`COPY (SELECT ${items.join(', ')} FROM ${stage}) TO ${files}`);
  }

  /** The table's view over the Parquet files now under its location, with its Glue types. */
  private async refreshView(name: string): Promise<void> {
    const table = this.tables[name] as GlueTable;
    const typed = table.columns.map(({ name: c, type }) => `CAST("${c}" AS ${DUCK_TYPE[type] ?? 'VARCHAR'}) AS "${c}"`);
    if (table.partition) typed.push(`CAST("${table.partition}" AS VARCHAR) AS "${table.partition}"`);
    const files = existsSync(table.location)
      ? readdirSync(table.location, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet') && !f.startsWith('.'))
      : [];
    const empty = [
      ...table.columns.map(({ name: c, type }) => `CAST(NULL AS ${DUCK_TYPE[type] ?? 'VARCHAR'}) AS "${c}"`),
      ...(table.partition ? [`CAST(NULL AS VARCHAR) AS "${table.partition}"`] : []),
    ];
    const source =
      files.length === 0
        ? `(SELECT ${empty.join(', ')} WHERE false) AS no_files`
        : `read_parquet([${files.map((f) => sqlString(join(table.location, f))).join(', ')}]${table.partition ? `, hive_partitioning = true, hive_types = {${sqlString(table.partition)}: VARCHAR}` : ', hive_partitioning = false'})`;
    await this.db.run(`CREATE OR REPLACE VIEW ${quoted(name)} AS SELECT ${typed.join(', ')} FROM ${source}`);
  }
}
