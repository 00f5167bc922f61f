/** What a user can do about a file-system error, by its code, given the folder to act on. */
const ADVICE: Readonly<Record<string, (folder: string) => string>> = {
  ENOSPC: (folder) => `free space under ${folder} and run again`,
  EDQUOT: (folder) => `free space under ${folder} (disk quota exceeded) and run again`,
  EROFS: (folder) => `${folder} is on a read-only file system: use a writable folder`,
  EACCES: (folder) => `make ${folder} writable for this user, or use another folder`,
  EPERM: (folder) => `make ${folder} writable for this user, or use another folder`,
};

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
 * for a failed `write` names neither); any other error is returned unchanged.
 */
export function fileWriteError(error: unknown, file: string, folder: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const advice = code === undefined ? undefined : ADVICE[code];
  if (advice === undefined || error instanceof FileWriteError) return error;
  const reason = (error as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
  return new FileWriteError(`${reason} (${code}) writing ${file}: ${advice(folder)}`, code as string, file, { cause: error });
}
