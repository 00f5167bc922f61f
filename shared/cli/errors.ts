/** A command line that cannot be acted on: wrong flags, missing arguments, bad values. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
