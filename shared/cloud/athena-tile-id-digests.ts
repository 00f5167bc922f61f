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

/** An id's digest: the first 8 bytes of its SHA-256. */
const idDigest = (id: string): bigint => createHash('sha256').update(id, 'utf8').digest().readBigUInt64BE(0);

/** The sorted digests (no repeats) of `ids`. */
export function idDigests(ids: Iterable<string>): BigUint64Array {
  const collector = new DigestCollector();
  for (const id of ids) collector.add(id);
  return collector.sorted();
}

/** Digests of ids added one at a time, 8 bytes each in blocks of {@link BLOCK} (no id kept). */
export class DigestCollector {
  private readonly full: BigUint64Array[] = [];
  private block = new BigUint64Array(BLOCK);
  private used = 0;

  add(id: string): void {
    if (this.used === BLOCK) {
      this.full.push(this.block);
      this.block = new BigUint64Array(BLOCK);
      this.used = 0;
    }
    this.block[this.used++] = idDigest(id);
  }

  /** The digests added, sorted, without repeats. */
  sorted(): BigUint64Array {
    const all = new BigUint64Array(this.full.length * BLOCK + this.used);
    for (const [i, block] of this.full.entries()) all.set(block, i * BLOCK);
    all.set(this.block.subarray(0, this.used), this.full.length * BLOCK);
    all.sort();
    let kept = 0;
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[kept - 1]) all[kept++] = all[i] as bigint;
    return all.slice(0, kept);
  }
}

const BLOCK = 65_536;

/** Whether a day's digests hold one of the candidates' (both sorted, no repeats). */
export const holdsACandidate = (day: BigUint64Array, candidates: BigUint64Array): boolean =>
  // The day's digests are not compared among themselves (index 0 "checked"): only with the candidates.
  shareAKey([day, candidates], new Set([0]));

/** The kept text of a day's digests. */
export const digestsText = keysText;

/** The digests of {@link digestsText}; undefined when the text is not such a list. */
export const digestsOfText = keysOfText;
