import { PrivacyConfigError } from './ports.ts';

/** The shortest HMAC key accepted (a generated key is 64 hex digits). */
export const MIN_KEY_LENGTH = 16;

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
