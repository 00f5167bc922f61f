import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { CatalogStore } from '../../shared/governance/catalog-store.ts';
import { governCatalog, recordGovernance } from '../../shared/governance/govern.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { formatProblem, InvalidDefinitionsError } from '../../shared/language/errors.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import type { QueryEngine } from '../../shared/ports.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { tempDir } from '../support/cli.ts';
import { type EventRow, writeLake } from '../support/lake.ts';
import { definitionYaml } from './support.ts';

const AS_OF = new Date('2024-06-01T00:00:00Z');
const login = (id: string, user: string, daysAgo: number): EventRow => ({
  event_id: id,
  source: 'product',
  user_id: user,
  event_name: 'login',
  ts: new Date(AS_OF.getTime() - daysAgo * 86_400_000 - 3_600_000).toISOString(),
});

// Logged in within 7 days: ann, bob. Within 30 days: also cy, dee. eve only 40 days ago.
const EVENTS = [login('1', 'ann', 1), login('2', 'bob', 3), login('3', 'cy', 10), login('4', 'dee', 20), login('5', 'eve', 40)];
const WEEK = '  event: login\n  within: 7d';
const MONTH = '  event: login\n  within: 30d';
const READER = '  not: {cohort: core_users}';

const catalogOf = (texts: Record<string, string>) =>
  buildCatalog(Object.entries(texts).map(([id, text]) => ({ path: `definitions/${id}.yaml`, text })));

/** An engine that counts the queries it is asked to run. */
function counting(engine: QueryEngine): { engine: QueryEngine; queries: () => number } {
  let queries = 0;
  const counted: QueryEngine = {
    name: engine.name,
    dialect: engine.dialect,
    lake: () => engine.lake(),
    evaluate: (sql, runId) => {
      queries++;
      return engine.evaluate(sql, runId);
    },
    members: (result, column) => engine.members(result, column),
    kpis: (result, column, metrics) => engine.kpis(result, column, metrics),
    release: (result) => engine.release(result),
    rows: (sql) => {
      queries++;
      return engine.rows(sql);
    },
  };
  return { engine: counted, queries: () => queries };
}

describe('governing a working catalog against the published one', () => {
  let engine: DuckDbEngine;
  let catalog: CatalogStore;
  const published = {
    core_users: definitionYaml('core_users', { rule: WEEK }),
    quiet_users: definitionYaml('quiet_users', { tier: 'tactical', rule: READER }),
  };
  const settings = DEFAULT_CONFIG.guardrails;

  beforeAll(async () => {
    const root = await tempDir();
    await writeLake(join(root, 'lake'), EVENTS);
    engine = new DuckDbEngine(await openDuckDb(), join(root, 'lake'), 'duckdb test');
    catalog = new CatalogStore(new FsBlobStore(join(root, 'state')));
    const first = await governCatalog({ working: catalogOf(published), asOf: AS_OF }, { catalog, engine, settings });
    expect(first.changes.map((c) => [c.cohort, c.kind, c.verdict])).toEqual([
      ['core_users', 'added', 'accepted'],
      ['quiet_users', 'added', 'accepted'],
    ]);
    await recordGovernance(first, catalog, { runId: 'run-1', at: '2024-06-01T00:00:00.000Z', authorOf: async () => 'ann' });
  });

  it('measures what a change adds and removes, for the cohort and its dependants, in one query', async () => {
    const working = catalogOf({ ...published, core_users: definitionYaml('core_users', { rule: MONTH, reason: 'A month.' }) });
    const { engine: counted, queries } = counting(engine);
    const governance = await governCatalog({ working, asOf: AS_OF, measureAll: true }, { catalog, engine: counted, settings });
    expect(queries()).toBe(1);
    const byId = new Map(governance.changes.map((c) => [c.cohort, c]));
    // Five people: core_users grows from {ann, bob} to {ann, bob, cy, dee}; quiet_users loses cy and dee.
    expect(byId.get('core_users')?.impact).toEqual({ before: 2, after: 4, added: 2, removed: 0 });
    expect(byId.get('core_users')?.dependants).toEqual(['quiet_users']);
    expect(byId.get('quiet_users')?.impact).toEqual({ before: 3, after: 1, added: 0, removed: 2 });
    expect(byId.get('core_users')?.verdict).toBe('pending');
  });

  it('keeps the published definition of a waiting change in the catalog a refresh runs, and records the wait once', async () => {
    const working = catalogOf({ ...published, core_users: definitionYaml('core_users', { rule: MONTH, reason: 'A month.' }) });
    const { engine: counted, queries } = counting(engine);
    const governance = await governCatalog({ working, asOf: AS_OF }, { catalog, engine: counted, settings });
    expect(queries()).toBe(1);
    const core = governance.effective.definitions.find((d) => d.id === 'core_users');
    expect(core?.hash).toBe(catalogOf(published).definitions.find((d) => d.id === 'core_users')?.hash);
    expect(governance.accept).toEqual([]);
    expect(governance.versions.get('core_users')).toBe(1);
    const facts = { runId: 'run-2', at: '2024-06-02T00:00:00.000Z', authorOf: async () => null };
    expect((await recordGovernance(governance, catalog, facts)).alerted).toEqual(['core_users']);
    expect((await recordGovernance(governance, catalog, { ...facts, runId: 'run-3' })).alerted).toEqual([]);
    expect((await catalog.records('core_users')).map((r) => [r.outcome, r.run_id])).toEqual([['pending', 'run-2']]);
  });

  it('accepts an approved change as a new catalog version that carries the approval', async () => {
    const text = definitionYaml('core_users', { rule: MONTH, reason: 'A month, approved.' });
    const working = catalogOf({ ...published, core_users: text });
    const hash = working.definitions.find((d) => d.id === 'core_users')?.hash as string;
    await catalog.decide({ cohort: 'core_users', hash, decision: 'approved', by: 'dana', note: 'fine', at: '2024-06-03T00:00:00.000Z' });
    const governance = await governCatalog({ working, asOf: AS_OF }, { catalog, engine, settings });
    expect(governance.effective.definitions.find((d) => d.id === 'core_users')?.hash).toBe(hash);
    expect(governance.versions.get('core_users')).toBe(2);
    const recorded = await recordGovernance(governance, catalog, {
      runId: 'run-4',
      at: '2024-06-03T00:00:00.000Z',
      authorOf: async () => 'ann',
    });
    expect(recorded.accepted).toMatchObject([
      { cohort: 'core_users', version: 2, change: 'changed', hash, text, author: 'ann', approval: { by: 'dana' } },
    ]);
    // Accepting again (a retried step) changes nothing; the catalog now publishes the new definition.
    await recordGovernance(governance, catalog, { runId: 'run-4', at: '2024-06-03T00:00:00.000Z', authorOf: async () => 'ann' });
    expect((await catalog.versions('core_users')).map((v) => v.version)).toEqual([1, 2]);
    const next = await governCatalog({ working, asOf: AS_OF }, { catalog, engine, settings });
    expect(next.changes).toEqual([]);
  });
});

describe('a catalog a refresh cannot keep', () => {
  it("names a problem of a kept published definition as that definition's, not a working file, and says what the working definitions remove", async () => {
    // Published: a core cohort reading a tactical one. Working: another project's definitions, without either.
    const root = await tempDir();
    await writeLake(join(root, 'lake'), EVENTS);
    const ports = {
      catalog: new CatalogStore(new FsBlobStore(join(root, 'state'))),
      engine: new DuckDbEngine(await openDuckDb(), join(root, 'lake'), 'duckdb test'),
      settings: DEFAULT_CONFIG.guardrails,
    };
    const published = {
      base_users: definitionYaml('base_users', { tier: 'tactical', rule: WEEK }),
      core_readers: definitionYaml('core_readers', { rule: '  cohort: base_users' }),
    };
    await recordGovernance(await governCatalog({ working: catalogOf(published), asOf: AS_OF }, ports), ports.catalog, {
      runId: 'run-1',
      at: '2024-06-01T00:00:00.000Z',
      authorOf: async () => 'ann',
    });

    const refused = governCatalog({ working: catalogOf({ other_users: definitionYaml('other_users') }), asOf: AS_OF }, ports);

    await expect(refused).rejects.toThrow(InvalidDefinitionsError);
    const problems = await refused.catch((error: InvalidDefinitionsError) => error.problems.map(formatProblem));
    expect(problems).toEqual([
      'definitions/core_readers.yaml:8:11: cohort "base_users" does not exist: no definition has that id ' +
        '(in the published definition v1 of core_readers, not a working definition: a refresh keeps it because its removal is refused; ' +
        'the working definitions remove 2 of the 2 published cohorts)',
    ]);
  });
});
