import { stringLiteral } from '../compiler/sql-text.ts';
import { LISTS_FOLDER } from '../language/uploaded-lists.ts';

/**
 * The lake relation of the uploaded lists (`list_name`, `entry`) over the Glue table of the
 * definitions bucket's `lists/` (one text column `line`, Hive's LazySimpleSerDe): the list's
 * name is the base name of the object's `"$path"`, and a key that is no `lists/<name>.csv` has
 * none (its lines match no list). `table` is an already quoted `database.table`.
 */
export function athenaListsRelation(table: string): string {
  const name = stringLiteral(`/${LISTS_FOLDER}/([a-z][a-z0-9_]{2,62})\\.csv$`);
  return `(SELECT regexp_extract("$path", ${name}, 1) AS list_name, line AS entry FROM ${table})`;
}
