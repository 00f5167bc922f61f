import { cellIdCandidates } from '../csv-cell.ts';

/** One CSV record: its fields (unquoted) and its text as written, line end included. */
interface CsvRecord {
  readonly fields: string[];
  readonly text: string;
}

/** Splits CSV text (RFC 4180 quoting, LF or CRLF line ends) into records, keeping each one's text. */
function csvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let start = 0;
  const endRecord = (end: number) => {
    fields.push(field.endsWith('\r') ? field.slice(0, -1) : field);
    records.push({ fields, text: text.slice(start, end) });
    fields = [];
    field = '';
    start = end;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else if (char === '\n') endRecord(i + 1);
    else field += char;
  }
  if (start < text.length) endRecord(text.length);
  return records;
}

/** Every field of every record of a CSV text, the header's included. */
export function csvCells(text: string): string[] {
  return csvRecords(text).flatMap((record) => record.fields);
}

/** The column names of a CSV text (its first record). */
export function csvHeader(text: string): string[] {
  const newline = text.indexOf('\n');
  return csvRecords(newline === -1 ? text : text.slice(0, newline + 1))[0]?.fields ?? [];
}

/**
 * Every id the `person_id` column may hold: each cell's id and, for a cell starting with `'`, the
 * cell as written too (see {@link cellIdCandidates}); undefined when the CSV has no such column.
 */
export function csvPersonIds(text: string): string[] | undefined {
  const [header, ...rows] = csvRecords(text);
  const column = header?.fields.indexOf('person_id') ?? -1;
  if (column < 0) return undefined;
  return rows.flatMap((row) => cellIdCandidates(row.fields[column] ?? ''));
}

/**
 * The CSV without the rows whose `person_id` is dropped (a neutralized cell, or the cell as
 * written); every other byte is kept as written, and the rows removed and kept are counted.
 * Undefined when the CSV has no `person_id` column.
 */
export function dropPersonRows(text: string, drop: (id: string) => boolean): { text: string; removed: number; kept: number } | undefined {
  const [header, ...rows] = csvRecords(text);
  const column = header?.fields.indexOf('person_id') ?? -1;
  if (!header || column < 0) return undefined;
  const kept = rows.filter((row) => !cellIdCandidates(row.fields[column] ?? '').some(drop));
  return { text: header.text + kept.map((row) => row.text).join(''), removed: rows.length - kept.length, kept: kept.length };
}
