import type { Dialect } from './dialect.ts';
import { normalizedIdSql, presentIdSql } from './normalize-id.ts';
import { stringLiteral } from './sql-text.ts';

/** A common table expression as a list of body lines (each query indents and writes them its own way). */
export interface ListCte {
  readonly name: string;
  readonly lines: readonly string[];
}

/**
 * The uploaded lists (`list:` leaves) a query reads, joined once to the per-person rows: the
 * entries normalized as SPEC section 1 normalizes ids (no identity-map lookup), one boolean
 * column per list. The population stays the per-person rows, so an entry that is nobody of the
 * population is no member. The same text for both dialects, for the full and the tiled query.
 */
export class ListMembership {
  private readonly columns = new Map<string, string>();

  /** The boolean column of a list: the person is an entry of it. */
  column(name: string): string {
    let column = this.columns.get(name);
    if (column === undefined) {
      column = `list_${this.columns.size}`;
      this.columns.set(name, column);
    }
    return column;
  }

  /**
   * The CTEs that join the lists to `from` (the last per-person relation) and the relation the
   * query then selects from; nothing and `from` itself when no leaf reads a list.
   * `lists` yields `list_name` (the file's base name) and `entry` (a line as written).
   */
  join(d: Dialect, lists: string | undefined, from: string): { readonly ctes: ListCte[]; readonly from: string } {
    if (this.columns.size === 0) return { ctes: [], from };
    if (lists === undefined)
      throw new Error(`this engine reads no uploaded lists, but a rule reads ${[...this.columns.keys()].join(', ')}`);
    const named = [...this.columns];
    const entries: ListCte = {
      name: 'list_entries',
      lines: [
        `SELECT list_name, ${normalizedIdSql(d, 'entry')} AS person_id`,
        `FROM ${lists} AS lists`,
        `WHERE list_name IN (${named.map(([name]) => stringLiteral(name)).join(', ')}) AND ${presentIdSql(d, 'entry')}`,
      ],
    };
    const listed: ListCte = {
      name: 'listed',
      lines: [
        `SELECT person_id, ${named.map(([name, column]) => `count_if(list_name = ${stringLiteral(name)}) > 0 AS ${column}`).join(', ')}`,
        'FROM list_entries',
        'GROUP BY person_id',
      ],
    };
    const joined: ListCte = {
      name: 'per_person_listed',
      lines: [
        `SELECT p.*, ${named.map(([, column]) => `coalesce(l.${column}, FALSE) AS ${column}`).join(', ')}`,
        `FROM ${from} AS p`,
        'LEFT JOIN listed AS l ON l.person_id = p.person_id',
      ],
    };
    return { ctes: [entries, listed, joined], from: joined.name };
  }
}
