import { type FileMetaData, parquetMetadata, parquetRead } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { MembersCodec } from '../ports.ts';

/** The one column of members.parquet (SPEC section 5). */
const COLUMN = 'person_id';

/** A members.parquet that is not one string column `person_id`. */
export class InvalidMembersFileError extends Error {
  override readonly name = 'InvalidMembersFileError';
}

/**
 * UTF-8 byte order, which is code point order. JavaScript's `<` compares UTF-16 code units, which
 * agrees except where a surrogate (a code point past U+FFFF) meets a unit in U+E000..U+FFFF: those
 * two ranges swap places.
 */
export function compareByteOrder(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Whether ids are unique and in byte order. One pass, no copy. */
export function isUniqueInByteOrder(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) if (compareByteOrder(ids[i - 1] as string, ids[i] as string) >= 0) return false;
  return true;
}

/**
 * Unique ids in byte order. Lists that already are (an engine's members) are only checked, not
 * sorted again. The plain sort is byte order when no id holds a unit from U+D800 on.
 */
export function uniqueInByteOrder(ids: readonly string[]): string[] {
  if (isUniqueInByteOrder(ids)) return [...ids];
  const sorted = ids.some((id) => /[\ud800-\uffff]/.test(id)) ? [...ids].sort(compareByteOrder) : [...ids].sort();
  return sorted.filter((id, i) => i === 0 || id !== sorted[i - 1]);
}

/** A UTF-16 surrogate without its pair. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Ids as UTF-8 holds them: a lone surrogate becomes U+FFFD, as any UTF-8 encoder writes it, before
 * sorting and de-duplicating, so the file is in byte order and unique as written.
 */
function wellFormed(ids: readonly string[]): readonly string[] {
  if (!ids.some((id) => LONE_SURROGATE.test(id))) return ids;
  return ids.map((id) => id.replace(/\p{Cs}/gu, '\ufffd'));
}

/**
 * UTF-8 bytes of each id as views into one buffer: the writer takes bytes as they are, and one
 * allocation instead of a TextEncoder array per id makes encoding about three times faster.
 */
function utf8Views(ids: readonly string[]): Uint8Array[] {
  const lengths = ids.map((id) => Buffer.byteLength(id, 'utf8'));
  const buffer = Buffer.allocUnsafe(lengths.reduce((sum, n) => sum + n, 0));
  let at = 0;
  return ids.map((id, i) => {
    const length = lengths[i] as number;
    buffer.write(id, at, 'utf8');
    at += length;
    return buffer.subarray(at - length, at);
  });
}

function checkSchema(metadata: FileMetaData): void {
  const [, ...columns] = metadata.schema;
  const column = columns[0];
  const isString = column?.type === 'BYTE_ARRAY' && (column.converted_type === 'UTF8' || column.logical_type?.type === 'STRING');
  if (columns.length !== 1 || column?.name !== COLUMN || !isString) {
    const found = columns.map((c) => `${c.name} ${c.type ?? 'group'}${c.converted_type ? `/${c.converted_type}` : ''}`).join(', ');
    throw new InvalidMembersFileError(`members.parquet must hold exactly one string column person_id, found: ${found || 'no columns'}`);
  }
}

/**
 * Members as Parquet in plain JavaScript (hyparquet and hyparquet-writer), so the Lambda functions
 * read and write the very files DuckDB does without a native engine: one optional UTF-8 column
 * `person_id`, unique, in byte order, Snappy-compressed, as DuckDB's `COPY ... (FORMAT parquet)`.
 */
export class ParquetMembersCodec implements MembersCodec {
  async encode(personIds: readonly string[]): Promise<Uint8Array> {
    const buffer = parquetWriteBuffer({
      columnData: [{ name: COLUMN, data: utf8Views(uniqueInByteOrder(wellFormed(personIds))), type: 'STRING' }],
      codec: 'SNAPPY',
      createdBy: 'cohort-refresh',
    });
    return new Uint8Array(buffer);
  }

  async decode(bytes: Uint8Array): Promise<string[]> {
    const ids = await readMembersFile(bytes);
    // Files this project writes are already in byte order; one from elsewhere is put in it.
    return isUniqueInByteOrder(ids) ? ids : uniqueInByteOrder(ids);
  }
}

/**
 * The person ids of a members.parquet in file order, as they are (duplicates kept). Raises
 * InvalidMembersFileError unless the file is one string column `person_id` without nulls.
 */
export async function readMembersFile(bytes: Uint8Array): Promise<string[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(file);
  checkSchema(metadata);
  const ids = new Array<string>(Number(metadata.num_rows));
  let read = 0;
  // Noted, not thrown: hyparquet does not await onChunk's caller, so a throw there escapes as an unhandled rejection.
  let problem: InvalidMembersFileError | undefined;
  await parquetRead({
    file,
    metadata,
    columns: [COLUMN],
    onChunk: ({ columnData, rowStart }) => {
      for (let i = 0; i < columnData.length; i++) {
        const id: unknown = columnData[i];
        if (typeof id === 'string') {
          ids[rowStart + i] = id;
          read++;
        } else
          problem ??= new InvalidMembersFileError(
            `members.parquet holds a ${id === null ? 'null' : typeof id} person_id at row ${rowStart + i}`,
          );
      }
    },
  });
  if (problem) throw problem;
  if (read !== ids.length) throw new InvalidMembersFileError('members.parquet has fewer person_id values than rows');
  return ids;
}
