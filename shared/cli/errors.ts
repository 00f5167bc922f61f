/** A command line that cannot be acted on: wrong flags, missing arguments, bad values. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The exit code of a command that threw: 2 when the command line cannot be acted on (a usage error,
 * or an option node's parser refused), 1 for a failure while working. README, "Exit codes".
 */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof UsageError || (error as { code?: string } | null)?.code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
}
