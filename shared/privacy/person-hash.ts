import { createHash, createHmac } from 'node:crypto';
import { type PrivacyPorts, PrivacyConfigError } from './ports.ts';
import { MIN_KEY_LENGTH } from './privacy-key.ts';

/**
 * The forms an id may take in a snapshot: as written (trimmed of ASCII white space, as identity
 * map person ids are) and normalized (SPEC section 1: lower-cased when it holds an `@`).
 */
export function idForms(id: string): string[] {
  const trimmed = id.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  if (trimmed === '') return [];
  const normalized = trimmed.includes('@') ? trimmed.toLowerCase() : trimmed;
  return [...new Set([trimmed, normalized])];
}

/** The keyed hash erasure records keep instead of an id: HMAC-SHA256 of the id under the privacy key, hex. */
export function personHash(salt: string, id: string): string {
  return createHmac('sha256', salt).update(id, 'utf8').digest('hex');
}

/** A fingerprint of a key (never the key), so each record names the key it was made with. */
export function saltFingerprint(salt: string): string {
  return createHash('sha256').update(`cohort-refresh salt fingerprint\n${salt}`, 'utf8').digest('hex').slice(0, 16);
}

/**
 * The key ring of erasure records ({@link PrivacyKeySource.load}): the environment variable
 * `privacy.salt_env` names (locally), else the ports' key source (a file outside the state
 * folder locally, a Secrets Manager secret in the cloud).
 */
export async function loadKeys(ports: PrivacyPorts, create: boolean): Promise<readonly string[] | undefined> {
  const name = ports.settings.salt_env;
  if (name !== undefined) {
    const value = (ports.env ?? process.env)[name];
    if (value === undefined || value.length < MIN_KEY_LENGTH) {
      throw new PrivacyConfigError(
        `privacy.salt_env names ${name}, which must hold a secret of at least ${MIN_KEY_LENGTH} characters (it is ${value === undefined ? 'not set' : 'too short'})`,
      );
    }
    return [value];
  }
  if (!ports.keys) throw new PrivacyConfigError('no privacy key is configured (a key file locally, the privacy key secret in the cloud)');
  return ports.keys.load(create);
}
