import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';

const setting = async (name: string) => {
  const connection = await openDuckDb();
  const rows = (await connection.runAndReadAll(`SELECT current_setting('${name}')::VARCHAR`)).getRows();
  return String(rows[0]?.[0]);
};

describe('openDuckDb', () => {
  it('never serves a file from the cache of file blocks, since files are rewritten in place while the process runs', async () => {
    expect(await setting('enable_external_file_cache')).toBe('false');
  });

  it('downloads no extension and runs in UTC', async () => {
    expect(await setting('autoinstall_known_extensions')).toBe('false');
    expect(await setting('autoload_known_extensions')).toBe('false');
    expect(await setting('TimeZone')).toBe('UTC');
  });
});
