import { createHash, createHmac, randomBytes } from 'node:crypto';
import { BlobExistsError } from '../ports.ts';
import { type PrivacyPorts, PrivacyConfigError } from './ports.ts';

/** Where the generated salt is kept when no environment variable is configured. */
export const SALT_KEY = 'privacy/salt';
const MIN_SALT_LENGTH = 16;

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

/** The salted hash erasure records keep instead of an id: HMAC-SHA256 of the id, hex. */
export function personHash(salt: string, id: string): string {
  return createHmac('sha256', salt).update(id, 'utf8').digest('hex');
}

/** A fingerprint of the salt (never the salt), so a record made under another salt is noticed. */
export function saltFingerprint(salt: string): string {
  return createHash('sha256').update(`cohort-refresh salt fingerprint\n${salt}`, 'utf8').digest('hex').slice(0, 16);
}

/**
 * The salt of erasure records: the configured environment variable, or the salt file in the
 * state store, generated once (32 random bytes) when `create` is true and it does not exist yet.
 * Returns undefined when there is no salt file and none may be created.
 */
export async function loadSalt(ports: PrivacyPorts, create: boolean): Promise<string | undefined> {
  const name = ports.settings.salt_env;
  if (name !== undefined) {
    const value = (ports.env ?? process.env)[name];
    if (value === undefined || value.length < MIN_SALT_LENGTH) {
      throw new PrivacyConfigError(`privacy.salt_env names ${name}, which must hold a secret of at least ${MIN_SALT_LENGTH} characters (it is ${value === undefined ? 'not set' : 'too short'})`);
    }
    return value;
  }
  const existing = await ports.blobs.get(SALT_KEY);
  if (existing) return Buffer.from(existing).toString('utf8');
  if (!create) return undefined;
  try {
    await ports.blobs.create(SALT_KEY, randomBytes(32).toString('hex'));
  } catch (error) {
    // Another process generated it first: use theirs.
    if (!(error instanceof BlobExistsError)) throw error;
  }
  return Buffer.from((await ports.blobs.get(SALT_KEY)) as Uint8Array).toString('utf8');
}
