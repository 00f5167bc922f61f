/**
 * The alias of an aggregate's SQL in `aliases`: the one it already has, else the next `a<n>`, so
 * an aggregate several leaves share is computed once per person.
 */
export function aggregateAlias(aliases: Map<string, string>, sql: string): string {
  let alias = aliases.get(sql);
  if (alias === undefined) {
    alias = `a${aliases.size}`;
    aliases.set(sql, alias);
  }
  return alias;
}
