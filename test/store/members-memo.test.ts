import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BlobExports } from '../../shared/deliver/exports.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import type { MembersCodec } from '../../shared/ports.ts';
import type { Manifest } from '../../shared/store/manifest.ts';
import { MemoizedCodec, memoized } from '../../shared/store/members-memo.ts';
import { ParquetMembersCodec } from '../../shared/store/parquet-members-codec.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { tempDir } from '../support/cli.ts';

/** A codec that counts what reaches it. */
function counting(inner: MembersCodec = new ParquetMembersCodec()) {
  const calls = { encode: 0, decode: 0 };
  const codec: MembersCodec = {
    encode: (ids) => {
      calls.encode++;
      return inner.encode(ids);
    },
    decode: (bytes) => {
      calls.decode++;
      return inner.decode(bytes);
    },
  };
  return { codec, calls };
}

const manifest = (version: number, previous: number | null = null): Manifest =>
  ({
    cohort: 'vip',
    version,
    as_of: '2024-06-01T00:00:00.000Z',
    status: 'published',
    size: 2,
    previous_version: previous,
  }) as unknown as Manifest;

describe('the members memo', () => {
  it('encodes a list once and reads its file back without decoding, with the bytes the codec writes', async () => {
    // Prepare
    const { codec, calls } = counting();
    const memo = new MemoizedCodec(codec);
    const ids = ['a', 'b', 'é', '😀'];

    // Act
    const first = await memo.encode(ids);
    const again = await memo.encode([...ids]);
    const read = await memo.decode(first.slice());

    // Assess
    expect(Buffer.from(again)).toEqual(Buffer.from(await new ParquetMembersCodec().encode(ids)));
    expect(Buffer.from(first)).toEqual(Buffer.from(again));
    expect(read).toEqual(ids);
    expect(calls).toEqual({ encode: 1, decode: 0 });
  });

  it('decodes a file whose list was not unique and in byte order, and sorts it as the codec does', async () => {
    // Prepare
    const { codec, calls } = counting();
    const memo = new MemoizedCodec(codec);

    // Act
    const bytes = await memo.encode(['b', 'a', 'b', '\ufb00', '😀']);
    const read = await memo.decode(bytes);

    // Assess
    expect(read).toEqual(['a', 'b', '\ufb00', '😀']);
    expect(calls).toEqual({ encode: 1, decode: 1 });
  });

  it('never serves a file whose bytes differ from the remembered ones (a stale or changed file)', async () => {
    // Prepare
    const { codec, calls } = counting();
    const memo = new MemoizedCodec(codec);
    const before = await memo.encode(['a', 'b', 'c']);
    const changed = await new ParquetMembersCodec().encode(['a', 'b', 'd']);
    const corrupted = before.slice();
    corrupted[corrupted.length - 9] = (corrupted[corrupted.length - 9] as number) ^ 0xff;

    // Act
    const read = await memo.decode(changed);
    const broken = memo.decode(corrupted);

    // Assess
    expect(changed.byteLength).toBe(before.byteLength);
    expect(read).toEqual(['a', 'b', 'd']);
    await expect(broken).rejects.toThrow();
    expect(calls.decode).toBe(2);
  });

  it('keeps its own copies: changing a list or buffer after the call changes nothing it serves', async () => {
    // Prepare
    const memo = new MemoizedCodec(new ParquetMembersCodec());
    const ids = ['a', 'b'];
    const bytes = await memo.encode(ids);
    const expected = Buffer.from(bytes);

    // Act
    ids.push('c');
    bytes.fill(0);
    const read = await memo.decode(expected);
    read.push('z');
    const encodedAgain = await memo.encode(['a', 'b']);

    // Assess
    expect(await memo.decode(expected)).toEqual(['a', 'b']);
    expect(Buffer.from(encodedAgain)).toEqual(expected);
  });

  it('reuses bytes only for the list encoded into them, never for a list that was decoded (another writer may differ)', async () => {
    // Prepare
    const { codec, calls } = counting();
    const memo = new MemoizedCodec(codec);
    const written = await new ParquetMembersCodec().encode(['a', 'b']);

    // Act
    await memo.decode(written);
    await memo.encode(['a', 'b']);

    // Assess
    expect(calls).toEqual({ encode: 1, decode: 1 });
  });

  it('drops the oldest lists past its size in bytes and still answers from the codec', async () => {
    // Prepare: a bound that holds one list of two ids and its file, not two
    const sizing = new MemoizedCodec(new ParquetMembersCodec());
    await sizing.encode(['a', 'b']);
    const { codec, calls } = counting();
    const memo = new MemoizedCodec(codec, sizing.heldBytes + 10);
    const first = await memo.encode(['a', 'b']);
    const held = memo.heldBytes;
    await memo.encode(['c', 'd']);

    // Act
    const read = await memo.decode(first);

    // Assess
    expect(held).toBe(sizing.heldBytes);
    expect(read).toEqual(['a', 'b']);
    expect(calls).toEqual({ encode: 2, decode: 1 });
  });

  it('counts what it holds in bytes: longer ids weigh more, a list it keeps once counts once', async () => {
    // Prepare
    const short = new MemoizedCodec(new ParquetMembersCodec());
    const long = new MemoizedCodec(new ParquetMembersCodec());
    const shortIds = Array.from({ length: 1000 }, (_, i) => `u${String(i).padStart(4, '0')}`);
    const longIds = shortIds.map((id) => `${id}-${'x'.repeat(40)}`);

    // Act
    const shortBytes = await short.encode(shortIds);
    await long.encode(longIds);
    const afterEncode = short.heldBytes;
    await short.decode(shortBytes);

    // Assess: 40 more characters an id, and the file; reading the file back adds nothing
    expect(long.heldBytes - short.heldBytes).toBeGreaterThanOrEqual(40 * 1000);
    expect(afterEncode).toBeGreaterThan(shortIds.length * 32);
    expect(short.heldBytes).toBe(afterEncode);
  });

  it('is one per codec, shared by the snapshot store and the exports built on it', async () => {
    // Prepare
    const codec = new ParquetMembersCodec();

    // Act
    const memo = memoized(codec);

    // Assess
    expect(memoized(codec)).toBe(memo);
    expect(memoized(memo)).toBe(memo);
    expect(memoized(new ParquetMembersCodec())).not.toBe(memo);
  });

  it('leaves members.parquet and the exports byte for byte as DuckDB writes them, and reads a rewritten file anew', async () => {
    // Prepare
    const root = await tempDir();
    const duckdb = new DuckDbEngine(await openDuckDb(), root);
    const { codec, calls } = counting(duckdb);
    const blobs = new FsBlobStore(root);
    const store = new SnapshotStore(blobs, codec);
    const exports = new BlobExports(blobs, codec);
    const members = ['a', 'b', 'é', 'ﬀ', '😀'];
    const expected = Buffer.from(await duckdb.encode(members));
    const file = store.locate('vip', 1);

    // Act
    await store.write(manifest(1), members);
    const read = await store.members('vip', 1);
    const exported = await exports.write({
      cohort: 'vip',
      version: 1,
      asOf: '2024-06-01T00:00:00.000Z',
      members: read,
      entered: read,
      exited: [],
    });
    await writeFile(`${file}/members.parquet`, await duckdb.encode(['x']));
    const rewritten = await store.members('vip', 1);

    // Assess
    expect(await readFile(`${file}/members.parquet`)).not.toEqual(expected);
    expect(await readFile(exported.members_parquet)).toEqual(expected);
    expect(await readFile(exported.entered_parquet)).toEqual(expected);
    expect(read).toEqual(members);
    expect(rewritten).toEqual(['x']);
    expect(calls).toEqual({ encode: 2, decode: 1 });
  });
});
