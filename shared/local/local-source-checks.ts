import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbDialect } from '../compiler/duckdb-dialect.ts';
import { stringLiteral } from '../compiler/sql-text.ts';
import type { SourceCheckSource } from '../checks/source-check-source.ts';
import { compileIdentityChecks, compileIdentityKeys, compileSourceChecks, type IdentityKeyRelation } from '../checks/source-query.ts';
import { readSourceCheckRows, type SourceCheckRow } from '../checks/source-rows.ts';
import type { LakeView, QueryEngine } from '../ports.ts';
import { lakeFileError } from './parquet-columns.ts';
import type { InputFile } from '../tiles/fingerprint.ts';
import { inputsOf } from './local-population.ts';
import { makeFolder } from './make-folder.ts';
import { readJson, writeJsonAtomically } from './local-tiles.ts';

/** The folder under the state folder where the source checks keep what they read between runs. */
export const CHECKS_FOLDER = 'checks';

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
 * The local source checks (issue 15: a realtime tick costs in proportion to today's events). The
 * identity map is normalized and grouped once per version of `identities/` instead of in every
 * run's query: `<state>/checks/identity-keys-<fingerprint>.parquet` holds one row per identity key
 * (source, MD5 of the normalized user id) and `identity-keys.json` its fingerprint, checksum and
 * the `identity` rows (key and conflict counts, per source). A changed identities file, a record
 * or file that does not match, or an unreadable one is built again; the query then joins the
 * events with the kept keys, so the rows are those of {@link querySourceChecks}.
 */
export class LocalSourceChecks implements SourceCheckSource {
  private readonly folder: string;

  constructor(
    private readonly connection: DuckDBConnection,
    /** Runs the checks' queries (an unreadable lake file fails naming it). */
    private readonly engine: QueryEngine,
    private readonly lakeDir: string,
    stateDir: string,
  ) {
    this.folder = join(stateDir, CHECKS_FOLDER);
  }

  async rows(asOf: Date, lake: LakeView): Promise<SourceCheckRow[]> {
    const kept = await this.identityKeys(lake.relations.identities);
    const compiled = compileSourceChecks({ asOf, lake: lake.relations, dialect: duckdbDialect, identityKeys: kept.relation });
    return [...readSourceCheckRows(await this.engine.rows(compiled.sql)), ...kept.rows];
  }

  /** The kept identity keys of the lake's identity map as it is now, built when they are missing or stale. */
  private async identityKeys(identities: string): Promise<{ relation: IdentityKeyRelation; rows: readonly SourceCheckRow[] }> {
    const keysSql = compileIdentityKeys(duckdbDialect, identities, keyOf);
    const fingerprint = sha256(JSON.stringify({ inputs: await this.identityInputs(), sql: keysSql }));
    const record = await readJson<KeptIdentityKeys>(join(this.folder, 'identity-keys.json')).catch(() => undefined);
    const usable = record?.fingerprint === fingerprint && (await this.intact(record));
    const kept = usable ? record : await this.keep(identities, keysSql, fingerprint);
    const file = stringLiteral(join(this.folder, kept.file));
    return { relation: { relation: `read_parquet(${file})`, keyOf }, rows: kept.rows };
  }

  /** Every file of the lake's `identities/` folder with its size and modification time. */
  private async identityInputs(): Promise<InputFile[]> {
    const folder = join(this.lakeDir, 'identities');
    const names = await readdir(folder).catch(() => [] as string[]);
    return inputsOf(names.map((name) => ({ path: `identities/${name}`, file: join(folder, name) })));
  }

  /** Whether the kept file is there with the bytes the record names. */
  private async intact(record: KeptIdentityKeys): Promise<boolean> {
    const bytes = await readFile(join(this.folder, record.file)).catch(() => undefined);
    return bytes !== undefined && sha256(bytes) === record.sha256;
  }

  /** Normalizes and counts the identity map, writes the keys and their record, and removes older kept keys. */
  private async keep(identities: string, keysSql: string, fingerprint: string): Promise<KeptIdentityKeys> {
    await makeFolder(this.folder);
    const file = `identity-keys-${fingerprint.slice(0, 16)}.parquet`;
    const tmp = join(this.folder, `.tmp-${randomUUID()}.parquet`);
    try {
      await this.connection
        .run(`COPY (${keysSql} ORDER BY source, user_key) TO ${stringLiteral(tmp)} (FORMAT parquet)`)
        .catch((error: unknown) => {
          throw lakeFileError(error) ?? error;
        });
      const bytes = await readFile(tmp);
      await rename(tmp, join(this.folder, file));
      const rows = readSourceCheckRows(await this.engine.rows(compileIdentityChecks(duckdbDialect, identities)));
      const record: KeptIdentityKeys = { fingerprint, file, sha256: sha256(bytes), rows };
      await writeJsonAtomically(join(this.folder, 'identity-keys.json'), record);
      const older = (await readdir(this.folder)).filter((name) => name.startsWith('identity-keys-') && name !== file);
      await Promise.all(older.map((name) => rm(join(this.folder, name), { force: true })));
      return record;
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
