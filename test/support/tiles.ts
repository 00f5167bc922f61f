import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';

/**
 * Rewrites one day's tile file in a state folder without one identity key's rows, leaving its
 * fingerprint: a tile the store still finds fresh, whose answer is wrong (what `--verify` is for).
 */
export async function tamperTile(state: string, day: string, userKey: string): Promise<void> {
  const file = join(state, 'tiles', `day=${day}`, 'tiles.parquet');
  const tampered = join(state, 'tiles', `day=${day}`, '.tampered.parquet');
  const connection = await openDuckDb();
  await connection.run(
    `COPY (SELECT * FROM read_parquet(${stringLiteral(file)}) WHERE user_key <> ${stringLiteral(userKey)}) TO ${stringLiteral(tampered)} (FORMAT parquet)`,
  );
  await rename(tampered, file);
}
