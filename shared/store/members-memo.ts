import type { MembersCodec } from '../ports.ts';
import { isUniqueInByteOrder } from './parquet-members-codec.ts';

/** How many ids the memo of one codec holds at most (members and files it remembers), oldest dropped first. */
export const MEMO_MAX_IDS = 1_000_000;

/** A member list and its file, as one codec wrote or read it. */
interface Entry {
  /** The bytes, as the codec wrote or read them (a private copy). */
  readonly bytes: Uint8Array;
  /** The list encoded into `bytes` (a private copy); undefined when the entry came from a decode. */
  readonly encoded?: readonly string[];
  /** What decoding `bytes` gives: unique, in byte order (a private copy); undefined when not known without decoding. */
  readonly decoded?: readonly string[];
  readonly size: number;
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
    private readonly maxIds = MEMO_MAX_IDS,
  ) {}

  async encode(personIds: readonly string[]): Promise<Uint8Array> {
    const found = this.byIds.get(personIds.length)?.find((e) => e.encoded !== undefined && sameIds(e.encoded, personIds));
    if (found) return found.bytes.slice();
    const ids = [...personIds];
    const bytes = await this.inner.encode(ids);
    this.remember({ bytes: bytes.slice(), encoded: ids, ...(readsBackAsIs(ids) ? { decoded: ids } : {}), size: ids.length });
    return bytes;
  }

  async decode(bytes: Uint8Array): Promise<string[]> {
    const found = this.byBytes.get(bytes.byteLength)?.find((e) => e.decoded !== undefined && sameBytes(e.bytes, bytes));
    if (found?.decoded) return [...found.decoded];
    const ids = await this.inner.decode(bytes);
    this.remember({ bytes: bytes.slice(), decoded: [...ids], size: ids.length });
    return ids;
  }

  private remember(entry: Entry): void {
    if (entry.size > this.maxIds) return;
    push(this.byBytes, entry.bytes.byteLength, entry);
    if (entry.encoded) push(this.byIds, entry.encoded.length, entry);
    this.order.push(entry);
    this.held += entry.size;
    while (this.held > this.maxIds) {
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
