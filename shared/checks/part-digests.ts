import { createHash } from 'node:crypto';
import { endianness } from 'node:os';

/**
 * Where a kept part's event digests are (their own object, beside the part's record) and how to
 * find the few of them a run needs: the digests sorted ascending, cut into 2^bits buckets by their
 * top bits, `index` the position where each bucket starts. A run that only asks whether some new
 * digests are in the part reads the buckets they fall in (byte ranges of the object), not the
 * part's every digest.
 */
export interface DigestsRecord {
  /** The object holding the sorted digests as base64 text ({@link digestsText}). */
  readonly key: string;
  readonly count: number;
  /** SHA-256 of the object's bytes (checked when the object is read whole). */
  readonly sha256: string;
  /** How many top bits of a digest name its bucket (0 to {@link MAX_BITS}). */
  readonly bits: number;
  /** 2^bits + 1 positions (uint32, base64): where each bucket starts, then `count`. */
  readonly index: string;
  /** The digests' membership filter (digest-filter.ts); absent in records written before 2026-12-07. */
  readonly filter?: FilterRecord;
}

/**
 * Where a kept part's membership filter is: an object beside its digests that answers, for any
 * digest, "maybe in the part" or "not in it". A tick reads it whole (about 2.7 bytes a digest as
 * text, against 10.7 for the digests) and then only the buckets of the digests it cannot rule out.
 */
export interface FilterRecord {
  /** The object holding the filter as base64 text (digest-filter.ts' filterText). */
  readonly key: string;
  /** SHA-256 of the object's bytes: a filter is used only when read whole and as written. */
  readonly sha256: string;
  /** How many blocks of 8 32-bit words the filter has. */
  readonly blocks: number;
}

/** Reads bytes [start, end) of a kept object; undefined when it is missing or shorter. */
export type RangeReader = (key: string, start: number, end: number) => Promise<Uint8Array | undefined>;

/**
 * About this many digests a bucket: 192 bytes of text to read per bucket a new digest falls in,
 * against an index entry of 4 bytes (about 5.3 as base64 in the record, read every run). A tick
 * brings about 1/288 of a day's events (every 5 minutes), so it touches some 1 - e^(-16/288), 5.4%,
 * of each kept part's buckets; but at most {@link MAX_RANGES} ranges are read a part, so it reads
 * that little only while its new digests are a few dozen (a small lake: about 1 KiB per new digest
 * and kept part). Beyond, the merged ranges soon cover half the part and it is read whole: the
 * source-digests bench (bench/RESULTS.md) read 1005 MB of kept digests for 1,000 new ones at 90.3M.
 */
export const BUCKET_DIGESTS = 16;
const MAX_BITS = 24;
/**
 * At most this many range reads per kept part and run: the nearest ranges are read together, and
 * the whole object in one read once they would cover half of it. S3 bills 0.0004 USD per 1,000
 * GETs: 16 reads of 30 parts every 5 minutes would be 0.055 USD a day.
 */
export const MAX_RANGES = 16;

/** Whether the machine keeps a 64-bit value's low byte first (the kept text holds them big-endian). */
export const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Where a 64-bit value's high and low 32 bits are among the 32-bit words of digests in the
 * machine's order ({@link wordsOf}): the loops over every digest of a part compare and bucket
 * numbers, not a BigInt read per digest (its allocations took most of their time).
 */
export const [HI, LO] = LITTLE_ENDIAN ? [1, 0] : [0, 1];

/** The 32-bit words of digests (two a digest, {@link HI} and {@link LO}), a view of their memory. */
export const wordsOf = (values: BigUint64Array): Uint32Array => new Uint32Array(values.buffer, values.byteOffset, values.length * 2);

/** The bucket of the i-th of these words' digests: its top `bits` bits (at most {@link MAX_BITS}, below 32). */
const bucketAt = (words: Uint32Array, i: number, bits: number): number => (bits === 0 ? 0 : (words[2 * i + HI] as number) >>> (32 - bits));

/** Whether the i-th digest of `a` is below (negative), equal to (0) or above (positive) the j-th of `b`. */
function compareAt(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  const high = (a[2 * i + HI] as number) - (b[2 * j + HI] as number);
  return high !== 0 ? high : (a[2 * i + LO] as number) - (b[2 * j + LO] as number);
}

/** Digests in a group of base64 text: 3 digests, 24 bytes, 32 characters without padding. */
const GROUP = 3;
const GROUP_CHARS = 32;

/** The characters of the text of `count` digests ({@link digestsText}). */
export const digestsTextLength = (count: number): number => Math.ceil(count / GROUP) * GROUP_CHARS;

/**
 * Sorted digests as the text of their object: base64 of their 8 bytes each, big-endian, the last
 * group of three filled with zeros. Text, so the erasure sweep and the privacy check read it like
 * every kept file (a binary file is undecodable there), 10.7 characters a digest like the records
 * before it; and in groups of 32 characters, so the digests from the (3g)-th on start at character 32g.
 */
export function digestsText(sorted: BigUint64Array): string {
  const bytes = Buffer.alloc((digestsTextLength(sorted.length) / GROUP_CHARS) * GROUP * 8);
  // The digests' bytes copied whole, then turned big-endian (a write per digest was 40 times slower).
  bytes.set(new Uint8Array(sorted.buffer, sorted.byteOffset, sorted.byteLength));
  if (LITTLE_ENDIAN) bytes.subarray(0, sorted.byteLength).swap64();
  return bytes.toString('base64');
}

/**
 * Text of {@link digestsText} decoded this many characters at a time (whole groups, 2^15 of them:
 * 768 KiB of digests): a part read whole is held as its text and its digests, not also as a string
 * of the text, its decoded bytes and their text again (50 bytes a digest at once, the peak of a
 * tick reading parts of millions of events).
 */
const DECODE_CHARS = 2 ** 15 * GROUP_CHARS;

/**
 * The first `count` digests of (whole groups of) the text of {@link digestsText}; undefined when it
 * is not such text or holds fewer, or a digest after them is not a zero filling the last group.
 */
export function digestsOfText(text: Uint8Array, count: number): BigUint64Array | undefined {
  if (text.length % GROUP_CHARS !== 0) return undefined;
  const all = (text.length / GROUP_CHARS) * GROUP;
  if (count > all || all - count >= GROUP) return undefined;
  // Decoded straight into the digests' own (aligned) memory, then turned to the machine's order, not read one BigInt at a time.
  const digests = new BigUint64Array(all);
  const memory = Buffer.from(digests.buffer);
  // A view of the text, not a copy (copying took most of the time).
  const view = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  for (let at = 0; at < text.length; at += DECODE_CHARS) {
    const latin1 = view.toString('latin1', at, Math.min(at + DECODE_CHARS, text.length));
    const bytes = Buffer.from(latin1, 'base64');
    // Whole groups of base64's alphabet alone are the base64 of what they decode to: any other
    // character (skipped, or read as base64url's `-` and `_`, by the decoder) or `=` changes it back.
    // (Checked natively: a loop over every character took a fifth of a whole new day's comparison.)
    if (bytes.toString('base64') !== latin1) return undefined;
    memory.set(bytes, (at / GROUP_CHARS) * GROUP * 8);
  }
  if (LITTLE_ENDIAN) memory.swap64();
  for (let i = count; i < all; i += 1) if (digests[i] !== 0n) return undefined;
  return all === count ? digests : digests.subarray(0, count);
}

/** Digests from kept bytes in the machine's byte order; undefined when the bytes are no whole number of 64-bit values. */
export function digestsOfBytes(bytes: Uint8Array): BigUint64Array | undefined {
  if (bytes.byteLength % 8 !== 0) return undefined;
  return new BigUint64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** The record of sorted digests (ascending, no repeats) kept under `key` as `text` ({@link digestsText}), with their bucket index. */
export function digestsRecord(key: string, sorted: BigUint64Array, text: string): DigestsRecord {
  const bits = Math.min(MAX_BITS, Math.max(0, Math.ceil(Math.log2(sorted.length / BUCKET_DIGESTS))));
  const index = new Uint32Array(2 ** bits + 1);
  let bucket = 0;
  const words = wordsOf(sorted);
  for (let i = 0; i < sorted.length; i += 1) {
    const b = bucketAt(words, i, bits);
    while (bucket <= b) index[bucket++] = i;
  }
  while (bucket < index.length) index[bucket++] = sorted.length;
  return {
    key,
    count: sorted.length,
    sha256: createHash('sha256').update(text).digest('hex'),
    bits,
    index: Buffer.from(index.buffer).toString('base64'),
  };
}

/** A record's bucket index; undefined when it does not fit the record. */
function indexOf(record: DigestsRecord): Uint32Array | undefined {
  if (!Number.isInteger(record.bits) || record.bits < 0 || record.bits > MAX_BITS || typeof record.index !== 'string') return undefined;
  const bytes = Buffer.from(record.index, 'base64');
  if (bytes.byteLength !== (2 ** record.bits + 1) * 4) return undefined;
  const index = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  for (let i = 1; i < index.length; i += 1) if ((index[i] as number) < (index[i - 1] as number)) return undefined;
  return index[0] === 0 && index[index.length - 1] === record.count ? index : undefined;
}

/** A kept part's digests read whole and checked against its record; undefined when missing or not as recorded. */
export async function readDigests(
  get: (key: string) => Promise<Uint8Array | undefined>,
  record: DigestsRecord,
): Promise<BigUint64Array | undefined> {
  const bytes = await get(record.key);
  if (bytes === undefined || createHash('sha256').update(bytes).digest('hex') !== record.sha256) return undefined;
  return digestsOfText(bytes, record.count);
}

/** Whether a value is in a sorted array, between positions `low` and `high` (inclusive). */
export function holds(sorted: BigUint64Array, value: bigint, low = 0, high = sorted.length - 1): boolean {
  let lo = low;
  let hi = high;
  while (lo <= hi) {
    const middle = (lo + hi) >>> 1;
    const at = sorted[middle] as bigint;
    if (at === value) return true;
    if (at < value) lo = middle + 1;
    else hi = middle - 1;
  }
  return false;
}

/**
 * Whether two sorted arrays share a value: each of a few probes looked up by halving, or both walked
 * side by side once the probes are many (a tick of a whole new day: 111,000 probes a part, where
 * the lookups took 4.7 times the walk). `lowest` and `highest`: the sorted array's ends.
 */
function sharesAValue(sorted: BigUint64Array, probes: BigUint64Array, lowest: bigint, highest: bigint): boolean {
  if (probes.length * Math.log2(sorted.length + 1) < probes.length + sorted.length) {
    for (const value of probes) if (value >= lowest && value <= highest && holds(sorted, value)) return true;
    return false;
  }
  const [kept, asked] = [wordsOf(sorted), wordsOf(probes)];
  let j = 0;
  for (let i = 0; i < probes.length; i += 1) {
    while (j < sorted.length && compareAt(kept, j, asked, i) < 0) j += 1;
    if (j === sorted.length) return false;
    if (compareAt(kept, j, asked, i) === 0) return true;
  }
  return false;
}

/** A run of buckets read in one range: positions [start, end), its first and last nonempty bucket asked for. */
interface Range {
  start: number;
  end: number;
  first: number;
  last: number;
}

/** The ranges holding the nonempty buckets these values fall in, at most `maxRanges` (the smallest gaps read too). */
export function rangesFor(index: Uint32Array, bits: number, probes: BigUint64Array, maxRanges = MAX_RANGES): Range[] {
  const ranges: Range[] = [];
  const words = wordsOf(probes);
  for (let i = 0; i < probes.length; i += 1) {
    const b = bucketAt(words, i, bits);
    const start = index[b] as number;
    const end = index[b + 1] as number;
    if (start === end) continue;
    const last = ranges.at(-1);
    if (last !== undefined && last.last === b) continue;
    if (last !== undefined && last.end === start) Object.assign(last, { end, last: b });
    else ranges.push({ start, end, first: b, last: b });
  }
  if (ranges.length <= maxRanges) return whole(index, ranges);
  const gaps = ranges.slice(1).map((r, i) => ({ i, size: r.start - (ranges[i] as Range).end }));
  const joined = new Set(
    gaps
      .sort((a, b) => a.size - b.size)
      .slice(0, ranges.length - maxRanges)
      .map((g) => g.i),
  );
  const merged: Range[] = [];
  ranges.forEach((range, i) => {
    const before = merged.at(-1);
    if (i > 0 && joined.has(i - 1) && before !== undefined) Object.assign(before, { end: range.end, last: range.last });
    else merged.push({ ...range });
  });
  return whole(index, merged);
}

/** The ranges, or the whole object in one when they cover half of it. */
function whole(index: Uint32Array, ranges: Range[]): Range[] {
  const count = index[index.length - 1] as number;
  if (ranges.reduce((sum, r) => sum + r.end - r.start, 0) * 2 <= count) return ranges;
  let first = 0;
  while (index[first + 1] === 0) first += 1;
  let last = index.length - 2;
  while (index[last] === count) last -= 1;
  return [{ start: 0, end: count, first, last }];
}

/**
 * The digests of a run of a kept part's buckets (positions [start, end)), read by one range and
 * checked: undefined when the object read does not hold together (missing, shorter, unsorted, a
 * bucket's first or last digest not in it). The object's SHA-256 is not checked (it is not read whole).
 */
async function readBuckets(
  read: RangeReader,
  record: DigestsRecord,
  index: Uint32Array,
  range: Range,
): Promise<BigUint64Array | undefined> {
  const { bits } = record;
  // Whole groups of three: the first `skip` digests read are before the range.
  const [first, skip] = [Math.floor(range.start / GROUP), range.start % GROUP];
  const bytes = await read(record.key, first * GROUP_CHARS, digestsTextLength(range.end));
  const groups =
    bytes === undefined ? undefined : digestsOfText(bytes, Math.min(Math.ceil(range.end / GROUP) * GROUP, record.count) - first * GROUP);
  if (groups === undefined) return undefined;
  const digests = groups.subarray(skip, skip + range.end - range.start);
  const words = wordsOf(digests);
  for (let i = 1; i < digests.length; i += 1) if (compareAt(words, i, words, i - 1) <= 0) return undefined;
  for (let b = range.first; b <= range.last; b += 1) {
    const [start, end] = [(index[b] as number) - range.start, (index[b + 1] as number) - range.start];
    if (start !== end && (bucketAt(words, start, bits) !== b || bucketAt(words, end - 1, bits) !== b)) return undefined;
  }
  return digests;
}

/**
 * A lookup of some values in a kept part's buckets, planned (its index decoded, its ranges chosen)
 * but not yet read: what it will hold is known before it reads ({@link keptLookup}).
 */
export interface KeptLookup {
  /** Digests its ranges cover, plus its bucket index in digests' worth of memory ({@link HELD_BYTES_A_DIGEST} bytes each). */
  readonly held: number;
  /** Whether any of the values is among the part's digests; undefined when the part does not hold together. */
  readonly run: () => Promise<boolean | undefined>;
}

/**
 * Bytes a kept digest holds while it is compared, read by a range or whole: its text (10.7 bytes)
 * and the digest decoded from it (8), the text decoded a piece at a time (digestsOfText).
 */
export const HELD_BYTES_A_DIGEST = 19;

/**
 * The lookup of these values (sorted ascending) in a kept part's digests by the buckets they fall in
 * ({@link keptHoldsAny}). A record whose index does not hold together holds nothing and answers undefined.
 */
export function keptLookup(read: RangeReader, record: DigestsRecord, probes: BigUint64Array, maxRanges = MAX_RANGES): KeptLookup {
  const index = indexOf(record);
  if (index === undefined) return { held: 0, run: async () => undefined };
  const ranges = rangesFor(index, record.bits, probes, maxRanges);
  return {
    held: ranges.reduce((sum, r) => sum + r.end - r.start, 0) + Math.ceil(index.byteLength / HELD_BYTES_A_DIGEST),
    run: async () => {
      // All at once: in S3 each ranged GET waits a round trip of its own (a filtered part has up to 64 of them).
      const found = await Promise.all(ranges.map((range) => readBuckets(read, record, index, range)));
      for (const digests of found) {
        if (digests === undefined) return undefined;
        if (digests.length === 0) continue;
        if (sharesAValue(digests, probes, digests[0] as bigint, digests.at(-1) as bigint)) return true;
      }
      return false;
    },
  };
}

/**
 * Whether any of these values (sorted ascending) is among a kept part's digests, reading only the
 * buckets they fall in (their ranges read at once); undefined when the record or the object read does not hold together
 * (missing, shorter, unsorted, a bucket's first or last digest not in it): the caller then reads
 * the window at once. The object's SHA-256 is checked only where it is read whole.
 */
export const keptHoldsAny = (
  read: RangeReader,
  record: DigestsRecord,
  probes: BigUint64Array,
  maxRanges = MAX_RANGES,
): Promise<boolean | undefined> => keptLookup(read, record, probes, maxRanges).run();

/**
 * A kept part's digests one slice of the hash range at a time (2^sliceBits slices by a digest's top
 * bits: each a run of whole buckets, one range read, when the part has at least as many buckets),
 * so a run comparing every part holds one slice of each, not their every digest. A part of fewer
 * buckets (at most 8 * 2^sliceBits digests) is read whole once and cut.
 */
export interface DigestSlices {
  /** The digests of slice `slice` (sorted ascending); undefined when the object read does not hold together. */
  slice(slice: number): Promise<BigUint64Array | undefined>;
}

/** The slices of a kept part's digests ({@link DigestSlices}); undefined when its record's index does not hold together. */
export function keptSlices(
  get: (key: string) => Promise<Uint8Array | undefined>,
  read: RangeReader,
  record: DigestsRecord,
  sliceBits: number,
): DigestSlices | undefined {
  const index = indexOf(record);
  if (index === undefined) return undefined;
  const shift = record.bits - sliceBits;
  if (shift < 0) {
    let whole: Promise<BigUint64Array | undefined> | undefined;
    return {
      slice: async (slice) => {
        whole ??= readDigests(get, record);
        const digests = await whole;
        return digests === undefined ? undefined : sliceOf(digests, slice, sliceBits);
      },
    };
  }
  return {
    slice: (slice) => {
      const [first, last] = [slice << shift, ((slice + 1) << shift) - 1];
      const [start, end] = [index[first] as number, index[last + 1] as number];
      return start === end ? Promise.resolve(new BigUint64Array(0)) : readBuckets(read, record, index, { start, end, first, last });
    },
  };
}

/** The values of a sorted array in slice `slice` of 2^sliceBits of the hash range (by their top bits), a view of it. */
export function sliceOf(sorted: BigUint64Array, slice: number, sliceBits: number): BigUint64Array {
  const edge = (s: number) => (s >= 2 ** sliceBits ? sorted.length : firstAtOrAbove(sorted, BigInt(s) << BigInt(64 - sliceBits)));
  return sorted.subarray(slice === 0 ? 0 : edge(slice), edge(slice + 1));
}

/** The position of the first value at or above `value` in a sorted array, from position `low` on. */
export function firstAtOrAbove(sorted: BigUint64Array, value: bigint, low = 0): number {
  let lo = low;
  let hi = sorted.length;
  while (lo < hi) {
    const middle = (lo + hi) >>> 1;
    if ((sorted[middle] as bigint) < value) lo = middle + 1;
    else hi = middle;
  }
  return lo;
}
