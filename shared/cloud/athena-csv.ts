/** A query result file that is not the CSV Athena writes. */
export class InvalidAthenaCsvError extends Error {
  override readonly name = 'InvalidAthenaCsvError';
}

/** A row of a result file: each value as text, `null` for SQL NULL. */
export type CsvRow = (string | null)[];

/**
 * Reads the CSV file Athena writes for a SELECT (its `OutputLocation`), chunk by chunk, without
 * holding the file's text at once: the header row, then the data rows, in batches.
 *
 * Athena's format: rows end in `\n`; every non-NULL value is in double quotes, with a double quote
 * inside written twice, so a value may hold commas and line breaks; NULL is an empty unquoted
 * value. An unquoted non-empty value (which Athena does not write) is taken as its text.
 */
export async function* athenaCsvRows(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<CsvRow[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    const { rows, rest } = completeRows(pending, false);
    pending = rest;
    if (rows.length > 0) yield rows;
  }
  pending += decoder.decode();
  const { rows, rest } = completeRows(pending, true);
  if (rest !== '') throw new InvalidAthenaCsvError(`the result file ends inside a quoted value: ${JSON.stringify(rest.slice(0, 80))}`);
  if (rows.length > 0) yield rows;
}

/** The complete rows at the start of `text`, and the text of the incomplete row after them. */
function completeRows(text: string, final: boolean): { rows: CsvRow[]; rest: string } {
  const rows: CsvRow[] = [];
  let start = 0;
  for (;;) {
    if (start >= text.length) return { rows, rest: '' };
    const parsed = parseRow(text, start, final);
    if (!parsed) return { rows, rest: text.slice(start) };
    rows.push(parsed.row);
    start = parsed.next;
  }
}

/** One row from `start`, or undefined when the text ends before the row does (and more may come). */
function parseRow(text: string, start: number, final: boolean): { row: CsvRow; next: number } | undefined {
  const row: CsvRow = [];
  let at = start;
  for (;;) {
    let value: string | null;
    if (text.charCodeAt(at) === 0x22) {
      // A quoted value: up to the quote that is not followed by another.
      let parts = '';
      let from = at + 1;
      for (;;) {
        const quote = text.indexOf('"', from);
        if (quote === -1) return undefined;
        if (quote + 1 === text.length && !final) return undefined;
        if (text.charCodeAt(quote + 1) === 0x22) {
          parts += text.slice(from, quote + 1);
          from = quote + 2;
          continue;
        }
        value = parts + text.slice(from, quote);
        at = quote + 1;
        break;
      }
    } else {
      let end = at;
      while (end < text.length && text.charCodeAt(end) !== 0x2c && text.charCodeAt(end) !== 0x0a) end++;
      if (end === text.length && !final) return undefined;
      const raw = text.slice(at, end).replace(/\r$/, '');
      value = raw === '' ? null : raw;
      at = end;
    }
    row.push(value);
    const next = text.charCodeAt(at);
    if (next === 0x2c) {
      at++;
      continue;
    }
    if (next === 0x0d) {
      if (at + 1 >= text.length && !final) return undefined;
      if (text.charCodeAt(at + 1) === 0x0a) at++;
    }
    if (text.charCodeAt(at) === 0x0a) return { row, next: at + 1 };
    if (at >= text.length) {
      if (!final) return undefined;
      return { row, next: at };
    }
    throw new InvalidAthenaCsvError(`unexpected ${JSON.stringify(text[at])} after a quoted value at offset ${at} of a chunk`);
  }
}
