/**
 * A SQL expression choosing one of `values` (constant text written in this code, never
 * user input) with equal weight from the uniform draw `draw` in [0, 1). A CASE over
 * constants is much cheaper per row than indexing a list literal.
 */
export function sqlChoice(draw: string, values: readonly string[]): string {
  const quoted = values.map((value) => `'${value.replaceAll("'", "''")}'`);
  const branches = quoted
    .slice(0, -1)
    .map((value, i) => `WHEN ${draw} < ${(i + 1) / values.length} THEN ${value}`)
    .join(' ');
  return `CASE ${branches} ELSE ${quoted.at(-1) ?? 'NULL'} END`;
}

/** `sqlChoice` over JSON objects `{"<key>":"<value>"}`, one per value. */
export function sqlJsonChoice(draw: string, key: string, values: readonly string[]): string {
  return sqlChoice(
    draw,
    values.map((value) => JSON.stringify({ [key]: value })),
  );
}
