import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IdentityOfLake } from '../checks/kept-source-checks.ts';
import { compileIdentityChecks, compileIdentityKeys } from '../checks/source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from '../checks/source-rows.ts';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import type { QueryEngine } from '../ports.ts';
import type { InputFile } from '../tiles/fingerprint.ts';
import { readJson, writeJsonAtomically } from './local-tiles.ts';
import { fileWriteError } from './file-error.ts';
import { makeFolder } from './make-folder.ts';
import { lakeFileError } from './parquet-columns.ts';

/**
 * A normalized user id as the kept keys hold it: its MD5 digest (hex), so the file names no user
 * id (erasure's sweep reads every file of the state folder for a person's ids).
 */
const keyOf = (column: string) => `md5(${column})`;

/** What `identity-keys.json` records about the kept keys. */
interface KeptIdentityKeys {
  /** A digest of the identities files (path, size, modification time) and of the query that read them. */
  readonly fingerprint: string;
  /** The Parquet file of the keys, beside this record. */
  readonly file: string;
  /** SHA-256 of its bytes: a file that does not match is built again. */
  readonly sha256: string;
  /** The `identity` rows of the source checks (keys and conflicts per source), counted when the keys were kept. */
  readonly rows: readonly SourceCheckRow[];
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * The identity map's keys as the local source checks join them, normalized and grouped once per
 * version of `identities/`: `<folder>/identity-keys-<fingerprint>.parquet` holds one row per
 * identity key (source, MD5 of the normalized user id) and `identity-keys.json` its fingerprint,
 * checksum and the `identity` rows (keys and conflicts per source). A kept file that does not
 * match its record is built again.
 */
export async function localIdentityKeys(
  connection: DuckDBConnection,
  engine: QueryEngine,
  folder: string,
  identities: string,
  inputs: readonly InputFile[],
): Promise<IdentityOfLake> {
  const keysSql = compileIdentityKeys(duckdbDialect, identities, keyOf);
  const fingerprint = sha256(JSON.stringify({ engine: engine.name, inputs, sql: keysSql }));
  const record = await readJson<KeptIdentityKeys>(join(folder, 'identity-keys.json')).catch(() => undefined);
  const usable = record?.fingerprint === fingerprint && (await intact(folder, record));
  const kept = usable ? record : await keep(connection, engine, folder, identities, keysSql, fingerprint);
  const file = stringLiteral(join(folder, kept.file));
  return { keys: { relation: `read_parquet(${file})`, keyOf }, rows: kept.rows };
}

/** Whether the kept file is there with the bytes the record names. */
async function intact(folder: string, record: KeptIdentityKeys): Promise<boolean> {
  const bytes = await readFile(join(folder, record.file)).catch(() => undefined);
  return bytes !== undefined && sha256(bytes) === record.sha256;
}

/** Normalizes and counts the identity map, writes the keys and their record, and removes older kept keys. */
async function keep(
  connection: DuckDBConnection,
  engine: QueryEngine,
  folder: string,
  identities: string,
  keysSql: string,
  fingerprint: string,
): Promise<KeptIdentityKeys> {
  await makeFolder(folder);
  const file = `identity-keys-${fingerprint.slice(0, 16)}.parquet`;
  const tmp = join(folder, `.tmp-${randomUUID()}.parquet`);
  try {
    await connection
      .run(`COPY (${keysSql} ORDER BY source, user_key) TO ${stringLiteral(tmp)} (FORMAT parquet)`)
      .catch((error: unknown) => {
        throw lakeFileError(error) ?? fileWriteError(error, tmp, folder);
      });
    const bytes = await readFile(tmp);
    await rename(tmp, join(folder, file));
    const rows = readSourceCheckRows(await engine.rows(compileIdentityChecks(duckdbDialect, identities)));
    const record: KeptIdentityKeys = { fingerprint, file, sha256: sha256(bytes), rows };
    await writeJsonAtomically(join(folder, 'identity-keys.json'), record);
    const older = (await readdir(folder)).filter((name) => name.startsWith('identity-keys-') && name !== file);
    await Promise.all(older.map((name) => rm(join(folder, name), { force: true })));
    return record;
  } finally {
    await rm(tmp, { force: true });
  }
}
