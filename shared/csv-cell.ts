/**
 * Spreadsheet formula neutralization of CSV export cells (OWASP "CSV injection"): person ids come
 * from source systems, and a cell starting with `=`, `+`, `-`, `@`, tab or CR is a formula once
 * the file is opened in a spreadsheet. Such a cell gets one `'` in front, which spreadsheets take
 * as "text" and do not show. A cell starting with `'` gets one too, so the rule reverses exactly:
 * a cell starting with `'` is the id without that first character. Parquet keeps ids as written.
 */
const NEUTRALIZED = /^[=+\-@\t\r']/;

/** The cell text of an id: the id, with `'` in front when it starts with a formula character or `'`. */
export function neutralizedCell(id: string): string {
  return NEUTRALIZED.test(id) ? `'${id}` : id;
}

/** The id a cell holds: {@link neutralizedCell} reversed (one leading `'` dropped). */
export function cellId(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/**
 * The ids a cell may stand for: the id {@link cellId} reads, and the cell as written (a file
 * exported before cells were neutralized holds ids as written). Erasure and the privacy check
 * match both, so neither an old nor a new file can keep a person.
 */
export function cellIdCandidates(cell: string): string[] {
  const id = cellId(cell);
  return id === cell ? [cell] : [id, cell];
}
