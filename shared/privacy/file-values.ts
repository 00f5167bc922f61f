import { gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { cellIdCandidates } from '../csv-cell.ts';
import { csvCells } from './person-csv.ts';

/**
 * The texts a file may hold a person id in, decoded by what its bytes are (not its name, which a
 * crash leftover such as `.tmp-<uuid>` does not carry): every string value of a Parquet file (all
 * columns), a gzip member's content, every string of JSON or JSON lines (and the quoted literals
 * inside them: lineage queries), every cell of CSV (a neutralized cell as its id and as written),
 * and every line and word of other text. Erasure compares them with a person's id forms, the
 * privacy check hashes them: one reading, so the two cannot disagree about what a file holds.
 */
export type FileValues = { readonly values: ReadonlySet<string> } | { readonly undecodable: string };

const PARQUET_MAGIC = 'PAR1';
const isGzip = (bytes: Uint8Array) => bytes[0] === 0x1f && bytes[1] === 0x8b;
/** Where words of free text end: white space, quotes, brackets, separators of markup and lists. */
const WORD_BREAK = /[\s"'`<>()[\]{},;|]+/;
const QUOTED_LITERAL = /'((?:[^']|'')*)'/g;

/** What {@link fileValues} reads; `name` only tells CSV from other text. */
export async function fileValues(name: string, bytes: Uint8Array): Promise<FileValues> {
  const values = new Set<string>();
  const problem = await collect(name, bytes, values, 0);
  return problem === undefined ? { values } : { undecodable: problem };
}

async function collect(name: string, bytes: Uint8Array, values: Set<string>, depth: number): Promise<string | undefined> {
  if (bytes.length === 0) return undefined;
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') === PARQUET_MAGIC) return parquetValues(bytes, values);
  if (isGzip(bytes)) {
    if (depth > 2) return 'gzip nested too deep';
    let inner: Buffer;
    try {
      inner = gunzipSync(bytes);
    } catch (error) {
      return `gzip that does not decompress (${(error as Error).message})`;
    }
    return collect(name.replace(/\.gz$/, ''), inner, values, depth + 1);
  }
  const text = utf8(bytes);
  if (text === undefined) return 'neither Parquet, gzip nor UTF-8 text';
  if (/\.csv$/i.test(name)) {
    for (const cell of csvCells(text)) for (const id of cellIdCandidates(cell)) addText(id, values, false);
    return undefined;
  }
  const json = parseJson(text);
  if (json !== undefined) {
    for (const value of json) collectJson(value, values);
    return undefined;
  }
  addText(text, values, true);
  return undefined;
}

async function parquetValues(bytes: Uint8Array, values: Set<string>): Promise<string | undefined> {
  try {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    // Every codec the project's writers use: the tiles are ZSTD (DuckDB locally, Athena's INSERT in
    // the cloud, where a Hive table's default is GZIP); hyparquet alone decodes Snappy only.
    for (const row of await parquetReadObjects({ file, compressors })) collectJson(row, values);
    return undefined;
  } catch (error) {
    return `Parquet that does not decode (${(error as Error).message.split('\n')[0]})`;
  }
}

/** Strict UTF-8; undefined for bytes that are not (binary). */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.includes('\u0000') ? undefined : text;
  } catch {
    return undefined;
  }
}

/** The values of a JSON document, or of each line of JSON lines; undefined when it is neither. */
function parseJson(text: string): unknown[] | undefined {
  const trimmed = text.trim();
  if (!/^[[{"]/.test(trimmed)) return undefined;
  try {
    return [JSON.parse(trimmed)];
  } catch {
    try {
      return trimmed
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as unknown);
    } catch {
      return undefined;
    }
  }
}

function collectJson(value: unknown, values: Set<string>): void {
  if (typeof value === 'string') addText(value, values, true);
  else if (Array.isArray(value)) for (const item of value) collectJson(item, values);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) collectJson(item, values);
}

/** A text itself, trimmed, its SQL literals and (with `words`) its lines and words. */
function addText(text: string, values: Set<string>, words: boolean): void {
  values.add(text);
  const trimmed = text.trim();
  values.add(trimmed);
  if (!words) return;
  for (const match of text.matchAll(QUOTED_LITERAL)) values.add((match[1] as string).replaceAll("''", "'"));
  if (text.length > 200 || text.includes('\n') || WORD_BREAK.test(trimmed)) {
    for (const line of text.split('\n')) values.add(line.trim());
    for (const word of text.split(WORD_BREAK)) if (word !== '') values.add(word);
  }
}

/** Whether bytes are a Parquet person list (one column, `person_id`), which the members codec re-encodes losing nothing. */
export function isPersonList(bytes: Uint8Array): boolean {
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== PARQUET_MAGIC) return false;
  try {
    const [, ...columns] = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer).schema;
    return columns.length === 1 && columns[0]?.name === 'person_id';
  } catch {
    return false;
  }
}
