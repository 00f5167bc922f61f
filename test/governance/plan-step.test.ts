import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { governanceAlert } from '../../shared/governance/alert.ts';
import type { CohortEvent } from '../../shared/deliver/events.ts';
import { CatalogStore } from '../../shared/governance/catalog-store.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { blobDefinitions } from '../../shared/store/definitions-source.ts';
import { workflowPlanSchema } from '../../shared/workflow/events.ts';
import { planStep } from '../../shared/workflow/steps.ts';
import type { PlanPorts } from '../../shared/workflow/types.ts';
import { tempDir } from '../support/cli.ts';
import { WARN_ONLY_SOURCE_CHECKS } from '../support/config.ts';
import { login, writeLake } from '../support/lake.ts';
import { definitionYaml } from './support.ts';

const EVENTS = [
  login('1', 'ann', '2024-05-31T10:00:00Z'),
  login('2', 'bob', '2024-05-20T10:00:00Z'),
  login('3', 'cy', '2024-05-10T10:00:00Z'),
];
const WEEK = definitionYaml('core_users', { rule: '  event: login\n  within: 7d' });
const MONTH = definitionYaml('core_users', { rule: '  event: login\n  within: 30d', reason: 'A month.' });

/**
 * The cloud's arrangement over the blob store port: definitions uploaded at the top of the
 * definitions bucket, the catalog and approval objects under its catalog/ (here a folder stands
 * in for the bucket; the S3 adapter is tested with the same CatalogStore in catalog-store.test.ts).
 */
describe('the Plan step with a definitions bucket', () => {
  let bucket: FsBlobStore;
  let ports: PlanPorts;
  const announced: CohortEvent[] = [];
  const plan = async (runId: string) =>
    (
      await planStep(
        { request: { trigger: 'definition-change', as_of: '2024-06-01T00:00:00Z' }, run_id: runId, started_at: '2024-06-01T00:00:00.000Z' },
        ports,
      )
    ).plan;
  const cohort = (p: Awaited<ReturnType<typeof plan>>) => p.cohorts.find((c) => c.id === 'core_users');

  beforeAll(async () => {
    const root = await tempDir();
    await writeLake(join(root, 'lake'), EVENTS);
    const engine = new DuckDbEngine(await openDuckDb(), join(root, 'lake'), 'duckdb test');
    bucket = new FsBlobStore(join(root, 'definitions-bucket'));
    ports = {
      definitions: blobDefinitions(bucket),
      engine,
      store: new SnapshotStore(new FsBlobStore(join(root, 'snapshots-bucket')), engine),
      config: WARN_ONLY_SOURCE_CHECKS,
      governance: { catalog: new CatalogStore(bucket) },
      events: { publish: async (events) => void announced.push(...events) },
    };
    await bucket.put('core_users.yaml', WEEK);
  });

  it('accepts new definitions, holds a large core change until an approval object appears, then accepts it', async () => {
    const first = await plan('run-1');
    expect(first.governance?.changes.map((c) => [c.cohort, c.kind, c.verdict])).toEqual([['core_users', 'added', 'accepted']]);
    expect(cohort(first)?.definition.version).toBe(1);
    // The version, and the record that its Definition Accepted was announced (so a crash in between is repaired).
    expect(await bucket.list('catalog/')).toEqual([
      'catalog/announcing/run=run-1/pending.json',
      'catalog/announcing/run=run-1/sent.json',
      'catalog/cohort=core_users/version=1.json',
    ]);
    expect(announced.splice(0)).toEqual([
      {
        detailType: 'Definition Accepted',
        detail: {
          status: 'accepted',
          cohort: 'core_users',
          version: 1,
          change: 'added',
          hash: cohort(first)?.definition.hash,
          location: bucket.locate('core_users.yaml'),
          change_reason: null,
          author: null,
          approval: null,
          accepted_at: '2024-06-01T00:00:00.000Z',
          run_id: 'run-1',
        },
      },
    ]);

    await bucket.put('core_users.yaml', MONTH);
    const waiting = await plan('run-2');
    expect(announced.splice(0)).toEqual([]);
    const change = waiting.governance?.changes[0];
    expect(change).toMatchObject({ cohort: 'core_users', verdict: 'pending', impact: { before: 1, after: 3, added: 2, removed: 0 } });
    // The run refreshes the accepted definition, and the owner is told what waits.
    expect(cohort(waiting)?.definition).toMatchObject({ hash: first.cohorts[0]?.definition.hash, version: 1 });
    // Every field of the governance report (impact, dependants, reasons) survives the plan's wire schema.
    expect(workflowPlanSchema.parse(waiting)).toStrictEqual(waiting);
    const alert = governanceAlert(waiting.run_id, waiting.governance, new Map([['core_users', 'test-team']]));
    expect(alert).toMatchObject({ severity: 'warn', cohorts: ['core_users'] });
    expect(alert?.body).toContain(
      'core_users (owner: test-team): change waits for an approval; the refresh keeps its accepted definition v1.',
    );

    const hash = change?.hash as string;
    await bucket.put(
      `catalog/decisions/cohort=core_users/${hash}.json`,
      JSON.stringify({ cohort: 'core_users', hash, decision: 'approved', by: 'dana', note: 'Reviewed.', at: '2024-06-01T01:00:00Z' }),
    );
    const approved = await plan('run-3');
    expect(approved.governance?.changes[0]).toMatchObject({ verdict: 'accepted', decision: { by: 'dana' } });
    expect(cohort(approved)?.definition).toMatchObject({ hash, version: 2 });
    // The approval decision too.
    expect(workflowPlanSchema.parse(approved)).toStrictEqual(approved);
    expect(await new CatalogStore(bucket).version('core_users', 2)).toMatchObject({
      run_id: 'run-3',
      approval: { by: 'dana' },
      change_reason: 'A month.',
    });
    expect(governanceAlert(approved.run_id, approved.governance, new Map())).toBeUndefined();
    expect(announced.splice(0).map((e) => e.detail)).toEqual([
      expect.objectContaining({
        cohort: 'core_users',
        version: 2,
        change: 'changed',
        hash,
        change_reason: 'A month.',
        approval: expect.objectContaining({ by: 'dana' }),
        run_id: 'run-3',
      }),
    ]);
    // A retried Plan finds the version its first attempt accepted and announces it again; a later run does not.
    await plan('run-3');
    expect(announced.splice(0).map((e) => [e.detailType, e.detail.cohort, 'version' in e.detail ? e.detail.version : null])).toEqual([
      ['Definition Accepted', 'core_users', 2],
    ]);
    await plan('run-4');
    expect(announced).toEqual([]);
  });
});
