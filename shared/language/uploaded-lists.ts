import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { ListContent } from './ast.ts';
import type { DefinitionProblem } from './errors.ts';
import { shownValue } from './errors.ts';
import { COHORT_ID } from './schema.ts';

/** The folder beside the definitions that holds the uploaded lists, `lists/<name>.csv`. */
export const LISTS_FOLDER = 'lists';
/** A list file's name: `<name>.csv`, the name following the cohort id rules. */
export const LIST_FILE = /^([a-z][a-z0-9_]{2,62})\.csv$/;

/** An uploaded list of person ids (a static cohort), validated. */
export interface UploadedList extends ListContent {
  readonly name: string;
  /** The file, as given to the loader (a path or an s3:// URI). */
  readonly path: string;
  /** The normalized entries, unique, sorted by UTF-8 bytes. */
  readonly ids: readonly string[];
}

/**
 * SPEC section 1's `normalize(id)`, as normalizedIdSql computes it in both engines: ASCII white
 * space trimmed, lower-cased when it holds an `@`.
 */
export function normalizeListEntry(line: string): string {
  const trimmed = line.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  return trimmed.includes('@') ? trimmed.toLowerCase() : trimmed;
}

/** The lines of a list file as both engines split them (LF, CRLF or a lone CR ends a line). */
export function listLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** The content facts of normalized entries (unique, sorted by UTF-8 bytes). */
export function listContent(ids: readonly string[]): ListContent {
  const hash = createHash('sha256');
  for (const id of ids) hash.update(`${id}\n`, 'utf8');
  return { hash: hash.digest('hex'), entries: ids.length };
}

/** Why a line cannot be an entry, or undefined when it can. */
function lineProblem(line: string, index: number): string | undefined {
  if (line.includes('\u0000')) return 'holds the NUL character, which no engine can hold';
  if (line.includes('\uFFFD')) return 'is not valid UTF-8';
  if (line.includes('\u0001')) return 'holds the control character U+0001, after which Athena reads nothing of a line';
  if (/[,"]/.test(line))
    return `holds ${line.includes(',') ? 'a comma' : 'a double quote'}: a list has one person_id per line, written bare (no other columns, no quoting)`;
  if (line.trim() === '\\N') return 'is \\N, which the engines read as no value';
  if (index === 0 && normalizeListEntry(line) === 'person_id') return 'is a header: a list has none, only one person_id per line';
  return undefined;
}

/**
 * Reads one list file: one person_id per line, normalized; blank lines ignored. Problems name the
 * file and the line; the list is given only when there are none.
 */
export function parseListFile(path: string, text: string): { readonly list?: UploadedList; readonly problems: DefinitionProblem[] } {
  const file = basename(path);
  const name = LIST_FILE.exec(file)?.[1];
  if (name === undefined) {
    return {
      problems: [
        { file: path, message: `a list file is named <name>.csv with the name matching ${COHORT_ID.source}, got ${shownValue(file)}` },
      ],
    };
  }
  const problems: DefinitionProblem[] = [];
  const ids = new Set<string>();
  // A UTF-8 byte order mark is no part of the first entry (both engines skip it).
  listLines(text.replace(/^\uFEFF/, '')).forEach((line, index) => {
    const problem = lineProblem(line, index);
    if (problem) problems.push({ file: path, position: { line: index + 1, col: 1 }, message: `line ${problem}` });
    const id = normalizeListEntry(line);
    if (id !== '') ids.add(id);
  });
  if (problems.length > 0) return { problems };
  const sorted = [...ids].sort(byBytes);
  return { list: { name, path, ids: sorted, ...listContent(sorted) }, problems };
}
