import type { MembersCodec } from '../ports.ts';
import { isUniqueInByteOrder } from './parquet-members-codec.ts';

/**
 * What the memo of one codec holds at most, in estimated bytes (see {@link MemoizedCodec.heldBytes}), oldest dropped
 * first: 192 MiB. A refresh needs every cohort's new list and its previous one held at once (the
 * state machine runs every Snapshot before any Deliver); at the 10M bench that is about 2.8M ids of 9
 * characters, some 125 MB by the estimate (the 40 bytes an id V8 takes, measured, plus the file).
 */
export const MEMO_MAX_BYTES = 192 * 1024 * 1024;

/** What V8 takes for one id in a list beside its characters (string header and alignment, the array's slot). */
const BYTES_PER_ID = 32;

/** A member list and its file, as one codec wrote or read it. */
interface Entry {
  /** The bytes, as the codec wrote or read them (a private copy). */
  readonly bytes: Uint8Array;
  /** The list encoded into `bytes` (a private copy); undefined when the entry came from a decode. */
  readonly encoded?: readonly string[];
  /** What decoding `bytes` gives: unique, in byte order (a private copy); undefined when not known without decoding. */
  readonly decoded?: readonly string[];
  /** What the entry holds, in estimated bytes ({@link entryBytes}). */
  readonly size: number;
}

/** The estimated bytes of a list (its ids and the array holding them; one-byte characters). */
const listBytes = (ids: readonly string[]) => ids.reduce((sum, id) => sum + BYTES_PER_ID + id.length, 0);

/** The estimated bytes an entry holds: its file and each distinct list it keeps. */
function entryBytes(bytes: Uint8Array, encoded?: readonly string[], decoded?: readonly string[]): number {
  const lists = encoded === decoded ? [encoded] : [encoded, decoded];
  return lists.reduce((sum, list) => sum + (list ? listBytes(list) : 0), bytes.byteLength);
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.byteLength === b.byteLength &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id, i) => id === b[i]);

/** A UTF-16 surrogate without its pair: UTF-8 cannot hold it, so such an id would not read back as written. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Whether decoding the file of these ids gives them back as they are: unique, in byte order, each valid UTF-8. */
const readsBackAsIs = (ids: readonly string[]) => isUniqueInByteOrder(ids) && !LONE_SURROGATE.test(ids.join('\n'));

/**
 * A codec that remembers the member lists it encoded and the files it decoded, so a run writes a
 * version's members once and reads them back (Deliver, the next version's entered and exited)
 * without decoding again. Nothing is trusted without a check: a file is served from memory only
 * when its bytes equal the remembered bytes, and bytes are reused only for a list equal, id for id,
 * to the one that was encoded into them; anything else goes to the codec. Every list and buffer is
 * copied in and out, so no caller can change what is remembered.
 */
export class MemoizedCodec implements MembersCodec {
  /** Entries by byte length (decode) and by list length (encode), oldest first overall in `order`. */
  private readonly byBytes = new Map<number, Entry[]>();
  private readonly byIds = new Map<number, Entry[]>();
  private readonly order: Entry[] = [];
  private held = 0;

  constructor(
    readonly inner: MembersCodec,
    /** What it holds at most, in estimated bytes. */
    private readonly maxBytes = MEMO_MAX_BYTES,
  ) {}

  /** What it holds now, in estimated bytes. */
  get heldBytes(): number {
    return this.held;
  }

  async encode(personIds: readonly string[]): Promise<Uint8Array> {
    const found = this.byIds.get(personIds.length)?.find((e) => e.encoded !== undefined && sameIds(e.encoded, personIds));
    if (found) return found.bytes.slice();
    const ids = [...personIds];
    const bytes = await this.inner.encode(ids);
    const copy = bytes.slice();
    const decoded = readsBackAsIs(ids) ? ids : undefined;
    this.remember({ bytes: copy, encoded: ids, ...(decoded ? { decoded } : {}), size: entryBytes(copy, ids, decoded) });
    return bytes;
  }

  async decode(bytes: Uint8Array): Promise<string[]> {
    const found = this.byBytes.get(bytes.byteLength)?.find((e) => e.decoded !== undefined && sameBytes(e.bytes, bytes));
    if (found?.decoded) return [...found.decoded];
    const ids = await this.inner.decode(bytes);
    const copy = bytes.slice();
    const decoded = [...ids];
    this.remember({ bytes: copy, decoded, size: entryBytes(copy, undefined, decoded) });
    return ids;
  }

  private remember(entry: Entry): void {
    if (entry.size > this.maxBytes) return;
    push(this.byBytes, entry.bytes.byteLength, entry);
    if (entry.encoded) push(this.byIds, entry.encoded.length, entry);
    this.order.push(entry);
    this.held += entry.size;
    while (this.held > this.maxBytes) {
      const oldest = this.order.shift() as Entry;
      this.held -= oldest.size;
      drop(this.byBytes, oldest.bytes.byteLength, oldest);
      if (oldest.encoded) drop(this.byIds, oldest.encoded.length, oldest);
    }
  }
}

function push(index: Map<number, Entry[]>, key: number, entry: Entry): void {
  const list = index.get(key);
  if (list) list.push(entry);
  else index.set(key, [entry]);
}

function drop(index: Map<number, Entry[]>, key: number, entry: Entry): void {
  const list = index.get(key)?.filter((e) => e !== entry) ?? [];
  if (list.length === 0) index.delete(key);
  else index.set(key, list);
}

const memos = new WeakMap<MembersCodec, MemoizedCodec>();

/**
 * The one memo of a codec, shared by every store and export writer built on it (so the members a
 * snapshot wrote are what Deliver reads back and exports). A memo given is returned as it is.
 */
export function memoized(codec: MembersCodec): MemoizedCodec {
  if (codec instanceof MemoizedCodec) return codec;
  let memo = memos.get(codec);
  if (!memo) {
    memo = new MemoizedCodec(codec);
    memos.set(codec, memo);
  }
  return memo;
}
