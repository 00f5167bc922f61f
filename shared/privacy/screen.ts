import { erasureRecords } from './erasure-records.ts';
import { loadKeys, personHash, saltFingerprint } from './person-hash.ts';
import { type PrivacyPorts, PrivacyConfigError } from './ports.ts';
import { loadSuppressionList } from './suppression.ts';

/** Who must not appear: the suppression list's ids and the forgotten people's salted hashes. */
export interface PrivacyLists {
  readonly suppressed: ReadonlySet<string>;
  /** Keyed hashes of forgotten ids, each with the short name of its erasure record. */
  readonly forgotten: ReadonlyMap<string, string>;
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
 * Loads the lists. The key ring is read only when someone was forgotten; a record made with a
 * key the ring does not hold stops the work (its hashes would match nobody, and the person would
 * come back). A member is hashed with each key the records were made with (usually one).
 */
export async function loadPrivacyLists(ports: PrivacyPorts): Promise<PrivacyLists> {
  const [suppressed, records] = await Promise.all([loadSuppressionList(ports), erasureRecords(ports)]);
  const ring = records.length > 0 ? ((await loadKeys(ports, false)) ?? []) : [];
  const byFingerprint = new Map(ring.map((key) => [saltFingerprint(key), key]));
  const stale = records.filter((record) => !byFingerprint.has(record.salt_fingerprint)).length;
  if (stale > 0) {
    throw new PrivacyConfigError(
      `${stale} erasure ${stale === 1 ? 'record was' : 'records were'} made with a privacy key that is not configured now (${ports.keys?.where ?? 'privacy.salt_env'}): ` +
        'forgotten people would no longer be recognised; restore the key they were made with (an older key may follow the current one, one a line)',
    );
  }
  const keys = [...new Set(records.map((record) => byFingerprint.get(record.salt_fingerprint) as string))];
  const forgotten = new Map<string, string>();
  for (const record of records) for (const hash of record.person_hashes) forgotten.set(hash, hash.slice(0, 12));
  const cache = new Map<string, string | undefined>();
  const forgottenRecord = (id: string): string | undefined => {
    if (forgotten.size === 0) return undefined;
    if (!cache.has(id))
      cache.set(
        id,
        keys.map((key) => forgotten.get(personHash(key, id))).find((record) => record !== undefined),
      );
    return cache.get(id);
  };
  return { suppressed, forgotten, isSuppressed: (id) => suppressed.has(id), forgottenRecord };
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
