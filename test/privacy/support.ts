import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type PrivacySettings } from '../../shared/config/config.ts';
import { stringLiteral } from '../../shared/compiler/sql-text.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { localFiles } from '../../shared/local/local-files.ts';
import { localKeyFile } from '../../shared/local/local-key.ts';
import type { PrivacyPorts } from '../../shared/privacy/ports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { runRefreshSteps } from '../../shared/workflow/run-steps.ts';
import type { WorkflowSummary } from '../../shared/workflow/types.ts';
import { tempDir } from '../support/cli.ts';
import { WARN_ONLY_SOURCE_CHECKS } from '../support/config.ts';
import { localPortsOver } from '../support/local-run.ts';
import { type EventRow, header, writeDefinitions, writeLake } from '../support/lake.ts';

export const login = (id: string, user: string, ts: string, properties?: Record<string, unknown>): EventRow => ({
  event_id: id,
  source: 'product',
  user_id: user,
  event_name: 'login',
  ts,
  ...(properties ? { properties } : {}),
});

/** A lake of four people; `Dora@Example.com` logs in through an e-mail id (normalized to lower case). */
export const EVENTS: EventRow[] = [
  login('e1', 'ann', '2024-05-30T10:00:00Z'),
  login('e2', 'bob', '2024-05-31T10:00:00Z'),
  login('e3', 'cid', '2024-05-01T10:00:00Z'),
  login('e4', ' Dora@Example.com', '2024-05-31T11:00:00Z'),
  login('e5', 'bob', '2024-06-05T10:00:00Z'),
  login('e6', 'ann', '2024-05-30T09:00:00Z', { email: 'ann.private@example.com' }),
];

export const DEFINITIONS = {
  'active_users.yaml': `${header('active_users')}rule:\n  event: login\n  within: 7d\n`,
  'all_users.yaml': `${header('all_users')}rule:\n  event: login\n`,
};

/** A lake, definitions, a state folder and privacy ports over it (exports under `<state>/exports`, the key at `<root>/config/privacy-key`). */
export async function privacyWorld(settings: Partial<PrivacySettings> = {}, env: Record<string, string> = {}) {
  const root = await tempDir('cohorts-privacy-');
  const lake = join(root, 'lake');
  const definitions = join(root, 'definitions');
  const state = join(root, 'state');
  await writeLake(lake, EVENTS);
  await writeDefinitions(definitions, DEFINITIONS);
  const engine = new DuckDbEngine(await openDuckDb(), lake, 'duckdb test');
  const blobs = new FsBlobStore(state);
  const store = new SnapshotStore(blobs, engine);
  const privacy: PrivacyPorts = {
    settings: { ...DEFAULT_CONFIG.privacy, ...settings },
    blobs,
    store,
    codec: engine,
    exports: blobs,
    sweep: [{ files: localFiles(blobs), prefixes: [''] }],
    keys: localKeyFile(join(root, 'config', 'privacy-key'), { folder: state, blobs }),
    env,
    now: () => new Date('2024-06-10T00:00:00Z'),
  };
  const ports = localPortsOver(
    { definitions, state, engine, blobs, store },
    { config: { ...WARN_ONLY_SOURCE_CHECKS, privacy: privacy.settings }, privacy },
  );
  /** A refresh through the steps that ship (exports and events included); its summary. */
  const run = async (asOf: string, options: { force?: boolean } = {}) =>
    (await runRefreshSteps({ as_of: asOf, ...(options.force ? { force: true } : {}) }, ports)).summary;
  /** What the privacy check of a run found, as its alert reports it (none: no `privacy` details). */
  const findingsOf = async (summary: WorkflowSummary) => {
    const text = await readFile(join(state, 'alerts.jsonl'), 'utf8').catch(() => '');
    const alerts = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { run_id?: string; details?: { privacy?: unknown[] } });
    return alerts.filter((alert) => alert.run_id === summary.run_id).flatMap((alert) => alert.details?.privacy ?? []);
  };
  return { root, lake, definitions, state, engine, blobs, store, privacy, run, findingsOf };
}

/** {@link privacyWorld} whose `all_users` is an experiment cohort with half of its members held out. */
export async function experimentWorld() {
  const world = await privacyWorld();
  await writeDefinitions(world.definitions, {
    'all_users.yaml': `${header('all_users')}rule:\n  event: login\nprogram:\n  experiment: welcome-mail\n  holdout: 50%\n  salt: s1\n`,
  });
  return world;
}

/** Every file under a folder, as paths. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Files under a folder whose bytes hold a text (Parquet files are checked by decoding them instead). */
export async function textFilesHolding(dir: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for (const file of await filesUnder(dir)) {
    if (file.endsWith('.parquet')) continue;
    if ((await readFile(file, 'utf8')).includes(text)) found.push(file);
  }
  return found;
}

/**
 * Files under a folder that hold an id anywhere: in their raw bytes (UTF-8), or, for Parquet, in
 * any column once DuckDB decoded them (compressed pages hide raw bytes).
 */
export async function filesHoldingAnywhere(dir: string, id: string): Promise<string[]> {
  const connection = await openDuckDb();
  const found: string[] = [];
  for (const file of await filesUnder(dir)) {
    const bytes = await readFile(file);
    let holds = bytes.includes(Buffer.from(id, 'utf8'));
    if (!holds && bytes.subarray(0, 4).toString('latin1') === 'PAR1') {
      const rows = (
        await connection.runAndReadAll(`SELECT * FROM read_parquet(${stringLiteral(file)}, hive_partitioning = false)`)
      ).getRows();
      holds = rows.some((row) => row.some((value) => String(value).includes(id)));
    }
    if (holds) found.push(file);
  }
  connection.closeSync();
  return found;
}
