import { erasureRecords } from './erasure-records.ts';
import { loadSalt, personHash, saltFingerprint } from './person-hash.ts';
import { type PrivacyPorts, PrivacyConfigError } from './ports.ts';
import { loadSuppressionList } from './suppression.ts';

/** Who must not appear: the suppression list's ids and the forgotten people's salted hashes. */
export interface PrivacyLists {
  readonly suppressed: ReadonlySet<string>;
  /** Salted hashes of forgotten ids, each with the short name of its erasure record. */
  readonly forgotten: ReadonlyMap<string, string>;
  /** The salted hash of an id (cached); only meaningful when someone was forgotten. */
  hash(id: string): string;
  /** Whether an id is suppressed / forgotten. */
  isSuppressed(id: string): boolean;
  forgottenRecord(id: string): string | undefined;
}

/** A member list with the people privacy leaves out removed, and how many of each kind. */
export interface Screened {
  readonly members: string[];
  readonly suppressed: number;
  readonly forgotten: number;
}

/**
 * Loads the lists. The salt is read only when someone was forgotten; a record made under another
 * salt stops the work (its hashes would match nobody, and the person would come back).
 */
export async function loadPrivacyLists(ports: PrivacyPorts): Promise<PrivacyLists> {
  const [suppressed, records] = await Promise.all([loadSuppressionList(ports), erasureRecords(ports)]);
  const salt = records.length > 0 ? await loadSalt(ports, false) : undefined;
  if (records.length > 0) {
    const fingerprint = salt === undefined ? undefined : saltFingerprint(salt);
    const stale = records.filter((record) => record.salt_fingerprint !== fingerprint).length;
    if (stale > 0) {
      throw new PrivacyConfigError(
        `${stale} erasure record(s) were made with another salt than the one configured now (privacy.salt_env or privacy/salt): ` +
          'forgotten people would no longer be recognised; restore the salt they were made with',
      );
    }
  }
  const forgotten = new Map<string, string>();
  for (const record of records) for (const hash of record.person_hashes) forgotten.set(hash, hash.slice(0, 12));
  const cache = new Map<string, string>();
  const hash = (id: string): string => {
    let value = cache.get(id);
    if (value === undefined) {
      value = personHash(salt ?? '', id);
      cache.set(id, value);
    }
    return value;
  };
  return {
    suppressed,
    forgotten,
    hash,
    isSuppressed: (id) => suppressed.has(id),
    forgottenRecord: (id) => (forgotten.size === 0 ? undefined : forgotten.get(hash(id))),
  };
}

/** Removes suppressed and forgotten people from a member list (order kept). */
export function screen(members: readonly string[], lists: PrivacyLists): Screened {
  if (lists.suppressed.size === 0 && lists.forgotten.size === 0) return { members: [...members], suppressed: 0, forgotten: 0 };
  let suppressed = 0;
  let forgotten = 0;
  const kept = members.filter((id) => {
    if (lists.forgottenRecord(id) !== undefined) {
      forgotten++;
      return false;
    }
    if (lists.isSuppressed(id)) {
      suppressed++;
      return false;
    }
    return true;
  });
  return { members: kept, suppressed, forgotten };
}

/**
 * What a snapshot writes: the evaluated members without suppressed and forgotten people, and the
 * lineage entry that counts them. Without privacy ports the members are kept as evaluated.
 */
export async function screenForSnapshot(
  evaluated: string[],
  ports: PrivacyPorts | undefined,
): Promise<{ members: string[]; lineage: { privacy?: { suppressed: number; forgotten: number } } }> {
  if (!ports) return { members: evaluated, lineage: {} };
  const screened = screen(evaluated, await loadPrivacyLists(ports));
  return { members: screened.members, lineage: { privacy: { suppressed: screened.suppressed, forgotten: screened.forgotten } } };
}
