import { createHash } from 'node:crypto';
import { keysOfText, keysText, shareAKey } from '../checks/source-check-parts.ts';

/**
 * The digests of the index of counted ids (issue 14): per index day, the sorted 64-bit digests of
 * its ids (the first 8 bytes of each id's SHA-256), kept as text beside the `tiles_ids` table. A
 * refresh that re-indexed some days finds, from these alone, the other days that may hold one of
 * the re-indexed ids; the contested ids are then derived from those days' partitions only. Equal
 * ids have equal digests, so a day that holds one of the ids is never missed; a day picked by a
 * collision of digests (about n*m/2^64 for n ids against m) is read for nothing, which is exact.
 */

/** The sorted digests (no repeats) of `ids`. */
export function idDigests(ids: Iterable<string>): BigUint64Array {
  const digests = new Set<bigint>();
  for (const id of ids) digests.add(createHash('sha256').update(id, 'utf8').digest().readBigUInt64BE(0));
  return BigUint64Array.from(digests).sort();
}

/** Whether a day's digests hold one of the candidates' (both sorted, no repeats). */
export const holdsACandidate = (day: BigUint64Array, candidates: BigUint64Array): boolean =>
  // The day's digests are not compared among themselves (index 0 "checked"): only with the candidates.
  shareAKey([day, candidates], new Set([0]));

/** The kept text of a day's digests. */
export const digestsText = keysText;

/** The digests of {@link digestsText}; undefined when the text is not such a list. */
export const digestsOfText = keysOfText;
