import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { openDuckDb } from '../../shared/duckdb/open.ts';
import { versionKpis } from '../../shared/engine/snapshot-cohort.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../../shared/store/fs-blob-store.ts';
import type { CheckResult, Kpis, Manifest } from '../../shared/store/manifest.ts';
import { SnapshotStore } from '../../shared/store/snapshot-store.ts';
import { tempDir } from '../support/cli.ts';

/** User text that must come out escaped. */
export const HOSTILE_PURPOSE = 'Heavy users <script>alert("pwned")</script> & friends; growth offers them the team plan.';
export const HOSTILE_NAME = 'Trial users (</script> test)';

const DEFINITIONS: Record<string, string> = {
  'power_users.yaml': `id: power_users
name: Power users
owner: growth-analytics
purpose: '${HOSTILE_PURPOSE}'
tier: core
cadence: weekly
rule:
  all:
    - event: feature_used
      source: product
      where: {plan: {in: [pro, team]}}
      within: 30d
      count: {gte: 40}
    - not: {cohort: trial_users}
quality:
  min_size: 500
  max_change_pct: 50
  kpis:
    activation_change: {warn: 5, fail: 20}
    min_size: 100
limitations: Misses exports made through the API.
program:
  hypothesis: Offering the team plan to power users lifts upgrades.
  experiment: team-plan-offer
  outcome_metric: upgrade_rate_30d
`,
  'engaged_payers.yaml': `id: engaged_payers
name: Engaged payers
owner: revenue-ops
purpose: Power users who also paid at least 100 in the last 30 days.
tier: strategic
cadence: monthly
rule:
  all:
    - cohort: power_users
    - event: invoice_paid
      source: billing
      within: 30d
      sum: {gte: 100}
`,
  'trial_users.yaml': `id: trial_users
name: '${HOSTILE_NAME}'
owner: lifecycle
purpose: People in a trial who used the product in the last two weeks.
tier: tactical
cadence: daily
rule:
  all:
    - latest: {event: subscription_changed, source: billing, property: plan}
      in: [trial]
    - event: "*"
      within: 14d
`,
  'old_segment.yaml': `id: old_segment
name: Old segment
owner: growth-analytics
purpose: The first attempt at engaged payers.
cadence: monthly
rule:
  event: invoice_paid
deprecated:
  reason: Counted refunds as payments.
  replaced_by: engaged_payers
`,
  'accelerating.yaml': `id: accelerating
name: Usage accelerating
owner: growth-analytics
purpose: Accounts whose usage doubled week over week.
tier: experimental
cadence: weekly
rule:
  velocity: {event: [feature_used, export_created], source: product, window: 7d}
  gte: 2
`,
};

/** The fixture's catalog: five cohorts, one deprecated, one never refreshed. */
export function fixtureCatalog(): readonly CohortDefinition[] {
  const catalog = buildCatalog(Object.entries(DEFINITIONS).map(([name, text]) => ({ path: `definitions/${name}`, text })));
  if (catalog.problems.length > 0) throw new Error(catalog.problems.map(formatProblem).join('\n'));
  return catalog.definitions;
}

/** The fixture's metrics, as the default config has them. */
const METRICS = DEFAULT_CONFIG.metrics;

/** KPIs of a fixture version: `activated` of `size` members active, `valueSum` in total. */
const kpis = (size: number, entered: number, exited: number, activated: number, valueSum: number): Kpis =>
  versionKpis({ size, activated, value_sum: valueSum }, entered, exited, METRICS);

const pass = (name: string, observed: number, threshold: number): CheckResult => ({ name, status: 'pass', observed, threshold, message: `${name} ok` });

/** Versions written into the fixture store, per cohort, oldest first. */
export const VERSIONS: Record<string, readonly Partial<Manifest>[]> = {
  power_users: [
    {
      as_of: '2024-04-01T00:00:00.000Z',
      size: 1000,
      entered: 1000,
      exited: 0,
      previous_version: null,
      checks: [pass('min_size', 1000, 500)],
      kpis: kpis(1000, 1000, 0, 612, 48_250.5),
    },
    {
      as_of: '2024-05-01T00:00:00.000Z',
      size: 1234,
      entered: 300,
      exited: 66,
      previous_version: 1,
      checks: [pass('min_size', 1234, 500)],
      kpis: kpis(1234, 300, 66, 700, 61_700),
    },
    {
      as_of: '2024-06-01T00:00:00.000Z',
      size: 2500,
      entered: 1400,
      exited: 134,
      previous_version: 2,
      status: 'held',
      trigger: 'schedule:weekly',
      checks: [
        pass('min_size', 2500, 500),
        { name: 'max_change_pct', status: 'fail', observed: 102.6, threshold: 50, message: 'size moved from 1234 to 2500 (102.6%); at most 50% allowed' },
        pass('not_empty', 2500, 1),
      ],
      kpis: kpis(2500, 1400, 134, 1000, 80_000),
    },
  ],
  engaged_payers: [
    { as_of: '2024-05-01T00:00:00.000Z', size: 12345, entered: 12345, exited: 0, previous_version: null },
    {
      as_of: '2024-06-01T00:00:00.000Z',
      size: 12000,
      entered: 55,
      exited: 400,
      previous_version: 1,
      trigger: 'definition-change',
      rationale: 'Count invoices net of refunds',
      checks: [
        pass('not_empty', 12000, 1),
        { name: 'source_freshness', status: 'warn', observed: '26h', threshold: '24h', message: 'billing events are 26 hours old' },
      ],
      kpis: kpis(12000, 55, 400, 9_876, 1_234_567.891),
    },
  ],
  trial_users: [
    {
      as_of: '2024-05-31T00:00:00.000Z',
      size: 0,
      entered: 0,
      exited: 0,
      previous_version: null,
      checks: [{ name: 'not_empty', status: 'warn', observed: 0, threshold: 1, message: 'the cohort is empty' }],
      kpis: kpis(0, 0, 0, 0, 0),
    },
    { as_of: '2024-06-01T00:00:00.000Z', size: 40, entered: 40, exited: 0, previous_version: 1, kpis: kpis(40, 40, 0, 13, 0) },
  ],
  old_segment: [{ as_of: '2024-01-01T00:00:00.000Z', size: 77, entered: 77, exited: 0, previous_version: null }],
};

/** A snapshot store in a temporary folder holding VERSIONS, with crafted manifests. */
export async function fixtureStore(catalog: readonly CohortDefinition[]): Promise<{ store: SnapshotStore; root: string }> {
  const root = await tempDir('cohorts-report-');
  const codec = new DuckDbEngine(await openDuckDb(), join(root, 'lake'));
  const store = new SnapshotStore(new FsBlobStore(join(root, 'state')), codec);
  for (const [cohort, versions] of Object.entries(VERSIONS)) {
    const definition = catalog.find((d) => d.id === cohort);
    if (!definition) throw new Error(`fixture cohort ${cohort} is not in the catalog`);
    for (const [index, partial] of versions.entries()) {
      const version = index + 1;
      const manifest: Manifest = {
        cohort,
        version,
        as_of: '2024-06-01T00:00:00.000Z',
        created_at: '2024-06-01T00:05:00.000Z',
        status: 'published',
        trigger: 'manual',
        rationale: null,
        size: 0,
        previous_version: null,
        entered: 0,
        exited: 0,
        definition: {
          hash: definition.hash,
          path: definition.path,
          name: definition.name,
          owner: definition.owner,
          tier: definition.tier,
          cadence: definition.cadence,
        },
        checks: [pass('not_empty', partial.size ?? 0, 1)],
        lineage: { engine: 'duckdb test', query: 'SELECT 1', inputs: [], depends_on: [], run_id: 'fixture' },
        population: 50_000,
        ...partial,
      };
      // Members are irrelevant to the report; sizes come from the manifests alone.
      await store.write(manifest, [`person-${version}`]);
      if (manifest.status === 'published') await store.publish(cohort, version);
    }
  }
  return { store, root };
}
