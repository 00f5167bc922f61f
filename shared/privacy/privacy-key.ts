import { PrivacyConfigError } from './ports.ts';

/** The shortest HMAC key accepted (a generated key is 64 hex digits). */
export const MIN_KEY_LENGTH = 16;

/**
 * Where the HMAC key of erasure records is kept: never beside the records (anyone who can read
 * `privacy/` could otherwise hash every plausible id and re-identify who was forgotten). Locally
 * a file outside the state folder; in the cloud a Secrets Manager secret.
 */
export interface PrivacyKeySource {
  /**
   * The key ring: first the key new records are made with, then older keys kept only to recognise
   * the records made with them. Undefined when there is no key and `create` is false; with
   * `create`, a key is generated once where the source may.
   */
  load(create: boolean): Promise<readonly string[] | undefined>;
  /** Where the key is (a path, a secret's ARN), for messages; never the key. */
  readonly where: string;
}

/** The keys of a key file or secret: one a line; blank lines and `#` comments skipped. */
export function parseKeyRing(text: string, where: string): string[] {
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (keys.length === 0 || keys.some((key) => key.length < MIN_KEY_LENGTH)) {
    throw new PrivacyConfigError(
      `${where} must hold the privacy key: one key of at least ${MIN_KEY_LENGTH} characters a line (the first makes new erasure records)`,
    );
  }
  return keys;
}
