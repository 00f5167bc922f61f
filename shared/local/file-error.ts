import { insideFolder } from './inside-folder.ts';

/** What a user can do about a file-system error, by its code, given the folder to act on. */
const ADVICE: Readonly<Record<string, (folder: string) => string>> = {
  ENOSPC: (folder) => `free space under ${folder} and run again`,
  EDQUOT: (folder) => `free space under ${folder} (disk quota exceeded) and run again`,
  EROFS: (folder) => `${folder} is on a read-only file system: use a writable folder`,
  EACCES: (folder) => `make ${folder} writable for this user, or use another folder`,
  EPERM: (folder) => `make ${folder} writable for this user, or use another folder`,
};

/** The errno code of the C library's text DuckDB ends a failed write's message with (see {@link DUCKDB_WRITE}). */
const CODE_OF_TEXT: Readonly<Record<string, string>> = {
  'No space left on device': 'ENOSPC',
  'Disk quota exceeded': 'EDQUOT',
  'Read-only file system': 'EROFS',
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
};

/** DuckDB's message for a failed write (a COPY into the state folder): the file and the C library's text, no code. */
const DUCKDB_WRITE = /(?:Could not write|Cannot open) file "([^"]+)": ([A-Za-z ]+)/;

/** A file-system error that says which file it is about and what to do; `code` stays Node's. */
export class FileWriteError extends Error {
  override readonly name = 'FileWriteError';

  constructor(
    message: string,
    readonly code: string,
    readonly path: string,
    options: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The error to throw for a failed write of `file`: a full disk, a read-only or forbidden folder
 * becomes a {@link FileWriteError} naming the file and what to do under `folder` (Node's message
 * for a failed `write` names neither); any other error is returned unchanged. DuckDB's error for a
 * COPY that failed so (no code, its own file named) becomes one naming the file DuckDB names.
 */
export function fileWriteError(error: unknown, file: string, folder: string): unknown {
  if (error instanceof FileWriteError) return error;
  const duckdb = error instanceof Error && !('code' in error) ? DUCKDB_WRITE.exec(error.message) : null;
  // A COPY also reads the lake: a lake file DuckDB could not open is not a write of the state folder.
  if (duckdb && !insideFolder(folder, duckdb[1] as string)) return error;
  const code = duckdb ? CODE_OF_TEXT[(duckdb[2] as string).trim()] : (error as NodeJS.ErrnoException | undefined)?.code;
  const advice = code === undefined ? undefined : ADVICE[code];
  if (advice === undefined) return error;
  const reason = duckdb
    ? (duckdb[2] as string).trim().toLowerCase()
    : (error as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
  const named = duckdb ? (duckdb[1] as string) : file;
  return new FileWriteError(`${reason} (${code}) writing ${named}: ${advice(folder)}`, code as string, named, { cause: error });
}
