import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { fileValues } from '../../shared/privacy/file-values.ts';
import { tempDir } from '../support/cli.ts';

describe('the values erasure and the privacy check read from a file', () => {
  it('reads Parquet of every codec the tiles are written with: ZSTD (local tiles, Athena tile tables), GZIP (Athena default), Snappy', async () => {
    const dir = await tempDir();
    const connection = await openDuckDb();
    for (const codec of ['zstd', 'gzip', 'snappy']) {
      // GIVEN a tile-like Parquet file holding a person's key, written with the codec
      const file = join(dir, `${codec}.parquet`);
      await connection.run(
        `COPY (SELECT 'web' AS source, 'p_ann' AS user_key, 3::BIGINT AS n) TO ${stringLiteral(file)} (FORMAT parquet, COMPRESSION ${codec})`,
      );
      // WHEN its values are read THEN the key is among them (the file is never "undecodable")
      const read = await fileValues(`${codec}.parquet`, await readFile(file));
      expect(read).toEqual({ values: expect.any(Set) });
      expect('values' in read && read.values.has('p_ann')).toBe(true);
    }
  });
});
