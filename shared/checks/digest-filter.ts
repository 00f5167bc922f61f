import { createHash } from 'node:crypto';
import { type FilterRecord, HELD_BYTES_A_DIGEST, HI, LITTLE_ENDIAN, LO, wordsOf } from './part-digests.ts';

/**
 * Bits of filter a digest: a false "maybe" for about 1 in 800 absent digests (test/checks/digest-filter.test.ts),
 * so a tick's 10,000 new digests leave about 12 to look up in a kept part (the source-digests bench).
 */
export const FILTER_BITS_PER_DIGEST = 16;

/**
 * At most this many ranged reads of a kept part's buckets for the digests its filter did not rule
 * out (each about one bucket, 16 digests): a 5-minute tick at 10M events a day (35,000 new digests)
 * leaves about 42 a part, which part-digests.ts' MAX_RANGES (16) would merge into ranges covering a
 * third of the part. 64 reads of 30 parts every 5 minutes would be 0.22 USD a day of S3 GETs.
 */
export const FILTERED_MAX_RANGES = 64;

/**
 * Parquet's split block Bloom filter: blocks of eight 32-bit words, a digest setting one bit in each
 * word of one block. Its block is chosen by the digest's high 32 bits, its eight bits by its low 32
 * bits times eight odd constants (the top 5 bits of each product): the digests are already 64-bit
 * hashes of the events, so nothing is hashed again. A lookup touches one block (32 bytes).
 */
const BLOCK_WORDS = 8;
const SALT = Uint32Array.of(0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31);

/** How many blocks a filter of `count` digests has (at least one). */
export const filterBlocks = (count: number): number => Math.max(1, Math.ceil((count * FILTER_BITS_PER_DIGEST) / (BLOCK_WORDS * 32)));

/** The first word of the block of a digest whose high 32 bits are `hi`: high * blocks / 2^32 (below 2^53). */
const blockAt = (hi: number, blocks: number): number => Math.floor((hi * blocks) / 2 ** 32) * BLOCK_WORDS;

/** The filter of these digests, as 32-bit words. */
export function filterOf(digests: BigUint64Array): Uint32Array {
  const blocks = filterBlocks(digests.length);
  const filter = new Uint32Array(blocks * BLOCK_WORDS);
  const words = wordsOf(digests);
  for (let i = 0; i < digests.length; i += 1) {
    const at = blockAt(words[2 * i + HI] as number, blocks);
    const lo = words[2 * i + LO] as number;
    for (let w = 0; w < BLOCK_WORDS; w += 1) filter[at + w] = (filter[at + w] as number) | (1 << (Math.imul(lo, SALT[w] as number) >>> 27));
  }
  return filter;
}

/** The digests (ascending, in order) that the filter does not rule out: those of the part among them, and a few others. */
export function maybeIn(filter: Uint32Array, probes: BigUint64Array): BigUint64Array {
  const blocks = filter.length / BLOCK_WORDS;
  const words = wordsOf(probes);
  const maybe = new BigUint64Array(probes.length);
  let n = 0;
  for (let i = 0; i < probes.length; i += 1) {
    const at = blockAt(words[2 * i + HI] as number, blocks);
    const lo = words[2 * i + LO] as number;
    let w = 0;
    while (w < BLOCK_WORDS && ((filter[at + w] as number) & (1 << (Math.imul(lo, SALT[w] as number) >>> 27))) !== 0) w += 1;
    if (w === BLOCK_WORDS) maybe[n++] = probes[i] as bigint;
  }
  // A copy of its own: kept while other parts' filters are read, not the probes' length each.
  return maybe.slice(0, n);
}

/** A filter as the text of its object: base64 of its words, each little-endian (as Parquet keeps them). */
export function filterText(filter: Uint32Array): string {
  const bytes = Buffer.from(filter.buffer, filter.byteOffset, filter.byteLength);
  if (LITTLE_ENDIAN) return bytes.toString('base64');
  return Buffer.from(bytes).swap32().toString('base64');
}

/** The record of a filter kept under `key` as `text` ({@link filterText}). */
export const filterRecord = (key: string, filter: Uint32Array, text: string): FilterRecord => ({
  key,
  sha256: createHash('sha256').update(text).digest('hex'),
  blocks: filter.length / BLOCK_WORDS,
});

/** Characters of base64 text a filter is decoded by at a time (whole groups of 4): the text and the filter held, not also the text as a string and its bytes. */
const DECODE_CHARS = 2 ** 20;

/** The blocks a record names when it is a filter's record (no other is read). */
function blocksOf(record: unknown): number | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const { key, sha256, blocks } = record as Partial<FilterRecord>;
  if (typeof key !== 'string' || typeof sha256 !== 'string' || !Number.isInteger(blocks) || (blocks as number) < 1) return undefined;
  return blocks;
}

/**
 * What reading a kept filter holds, in digests' worth of memory ({@link HELD_BYTES_A_DIGEST} bytes
 * each): its text (42.7 bytes a block) and the filter decoded from it (32), a 16th of the part's
 * digests read whole. 0 when the record names no filter (nothing is read).
 */
export function filterHeld(record: unknown): number {
  const blocks = blocksOf(record);
  return blocks === undefined ? 0 : Math.ceil((textLength(blocks) + blocks * BLOCK_WORDS * 4) / HELD_BYTES_A_DIGEST);
}

/** Characters of the base64 text of a filter of `blocks` blocks (padded). */
const textLength = (blocks: number): number => Math.ceil((blocks * BLOCK_WORDS * 4) / 3) * 4;

/**
 * A kept filter read whole; undefined when the record is not one, or the object is missing or not
 * as recorded (its SHA-256, its size): the caller then looks its digests up without it, exactly.
 */
export async function readFilter(get: (key: string) => Promise<Uint8Array | undefined>, record: unknown): Promise<Uint32Array | undefined> {
  const blocks = blocksOf(record);
  if (blocks === undefined) return undefined;
  const { key, sha256 } = record as FilterRecord;
  const text = await get(key);
  if (text === undefined || text.byteLength !== textLength(blocks) || createHash('sha256').update(text).digest('hex') !== sha256)
    return undefined;
  // Decoded a piece at a time straight into its own aligned memory (a decoded Buffer may share a pool at any offset).
  const filter = new Uint32Array(blocks * BLOCK_WORDS);
  const memory = Buffer.from(filter.buffer);
  const view = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  let written = 0;
  for (let at = 0; at < text.byteLength; at += DECODE_CHARS) {
    const bytes = Buffer.from(view.toString('latin1', at, Math.min(at + DECODE_CHARS, text.byteLength)), 'base64');
    if (written + bytes.byteLength > memory.byteLength) return undefined;
    memory.set(bytes, written);
    written += bytes.byteLength;
  }
  if (written !== memory.byteLength) return undefined;
  if (!LITTLE_ENDIAN) memory.swap32();
  return filter;
}
