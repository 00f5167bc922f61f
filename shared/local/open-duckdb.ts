import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

/** Options for a local DuckDB database. */
export interface OpenDuckDbOptions {
  /** Database file; `:memory:` keeps everything in RAM. @default ':memory:' */
  readonly path?: string;
  /** Worker threads. @default - DuckDB's choice (one per core) */
  readonly threads?: number;
  /** Memory ceiling, e.g. `'1500MB'`; past it DuckDB spills to `tempDirectory`. @default - DuckDB's choice (80% of RAM) */
  readonly memoryLimit?: string;
  /** Where DuckDB spills when memory runs short. @default - a `cohorts-duckdb` folder in the OS temp folder */
  readonly tempDirectory?: string;
}

/**
 * Opens DuckDB the way every part of the project uses it: UTC, and no extension ever
 * downloaded at run time (parquet, json and icu are built in; the network is not ours).
 */
export async function openDuckDb(options: OpenDuckDbOptions = {}): Promise<DuckDBConnection> {
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    // Row order of intermediate results never matters here (every output is sorted explicitly);
    // without it DuckDB streams large aggregations in less memory.
    preserve_insertion_order: 'false',
    // Tiles, partials and members files are rewritten at the same path while the process runs;
    // DuckDB 1.5's cache of file blocks can serve a rewritten local file's old blocks (duckdb#20058,
    // #23427: a local file's version is its modification time), which read as "Snappy
    // decompression failure" in the tile expiry test. The OS page cache does the same job safely.
    enable_external_file_cache: 'false',
  };
  if (options.threads !== undefined) config.threads = String(options.threads);
  if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
  // An in-memory database spills only when it is given a folder to spill to.
  config.temp_directory = options.tempDirectory ?? join(tmpdir(), 'cohorts-duckdb');
  const instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return connection;
}
