/**
 * The top-level columns of each Parquet file of a lake, read from the files' footers before the
 * query is built: a column may be absent (SPEC: `properties` and `value` are optional) or typed
 * otherwise than the SPEC says, and the reader must not leave either to DuckDB's binder.
 */

/** A file's top-level columns: DuckDB's type name, or NESTED for a struct, list or map. */
export type ParquetColumns = ReadonlyMap<string, string>;

/** Each Parquet file's columns, by file path. */
export type ParquetSchemas = ReadonlyMap<string, ParquetColumns>;

/** Marks a group column (struct, list, map): nothing the SPEC allows. */
export const NESTED = 'NESTED';

/** A lake file DuckDB cannot read; the message is one line naming the file. */
export class LakeFileError extends Error {
  override readonly name = 'LakeFileError';
}

/** Runs one query and returns its rows as arrays (the DuckDB connection's runAndReadAll). */
export type RowReader = (sql: string) => Promise<readonly (readonly unknown[])[]>;

interface SchemaRow {
  readonly file: string;
  readonly name: string;
  readonly children: number;
  readonly type: string | null;
}

/** The top-level columns from parquet_schema's rows: a depth-first walk of each file's tree. */
function topLevel(rows: readonly SchemaRow[]): Map<string, Map<string, string>> {
  const byFile = new Map<string, SchemaRow[]>();
  for (const row of rows) byFile.set(row.file, [...(byFile.get(row.file) ?? []), row]);
  const result = new Map<string, Map<string, string>>();
  for (const [file, tree] of byFile) {
    const columns = new Map<string, string>();
    let i = 1;
    const skip = (): void => {
      const node = tree[i++];
      for (let c = 0; c < (node?.children ?? 0); c++) skip();
    };
    for (let c = 0; c < (tree[0]?.children ?? 0); c++) {
      const node = tree[i] as SchemaRow;
      columns.set(node.name, node.children > 0 ? NESTED : (node.type ?? NESTED));
      skip();
    }
    result.set(file, columns);
  }
  return result;
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/**
 * Reads the columns of every file in one query; when that fails, file by file, so the error
 * names the file DuckDB cannot read (corrupt, truncated, empty, not Parquet).
 */
export async function readParquetSchemas(
  read: RowReader,
  files: readonly string[],
  listSql: (files: readonly string[]) => string,
): Promise<ParquetSchemas> {
  if (files.length === 0) return new Map();
  const query = (list: readonly string[]) =>
    read(`SELECT file_name, name, coalesce(num_children, 0), duckdb_type FROM parquet_schema(${listSql(list)})`).then((rows) =>
      rows.map(
        (r): SchemaRow => ({ file: String(r[0]), name: String(r[1]), children: Number(r[2]), type: r[3] === null ? null : String(r[3]) }),
      ),
    );
  try {
    return topLevel(await query(files));
  } catch {
    for (const file of files) {
      try {
        await query([file]);
      } catch (error) {
        throw new LakeFileError(`cannot read ${file}: ${firstLine(error)}`);
      }
    }
    throw new LakeFileError(`cannot read the Parquet files of the lake (${files.length} files)`);
  }
}

/**
 * A DuckDB error that comes from reading a lake file, as one line naming the file (DuckDB's own
 * message runs over many lines, the file on one of them); undefined for any other error.
 */
export function lakeFileError(error: unknown): LakeFileError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  // DuckDB names a .gz file that is not gzip at the end of its first line, not on a `file = ` line.
  const notGzip = /Input is not a GZIP stream: (.+)$/m.exec(message)?.[1];
  if (notGzip !== undefined) return new LakeFileError(`cannot read ${notGzip.trim()}: not gzip-compressed, though its name ends in .gz`);
  const file = /^\s*file = (.+)$/m.exec(message)?.[1];
  if (file === undefined) return undefined;
  const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
  const what = message.includes('Invalid unicode') ? 'is not valid UTF-8' : firstLine(message);
  return new LakeFileError(`cannot read ${file.trim()}${line === undefined ? '' : ` (line ${line})`}: ${what}`);
}
