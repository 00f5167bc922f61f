import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../../shared/config/config.ts';
import { openDuckDb } from '../../shared/local/open-duckdb.ts';
import { versionKpis } from '../../shared/engine/snapshot-cohort.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { CatalogStore } from '../../shared/governance/catalog-store.ts';
import type { DefinitionVersion } from '../../shared/governance/records.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { DuckDbEngine } from '../../shared/local/duckdb-engine.ts';
import { FsBlobStore } from '../../shared/local/fs-blob-store.ts';
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
change_reason: Forty uses; thirty-five still let casual teams in.
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

/** User text in the catalog's audit trail that must come out escaped. */
export const HOSTILE_NOTE = 'Checked <em>every</em> new member & the offer.';

/** power_users as the refreshes accepted it before its working definition: d1 (30 uses), d2 (35 uses, approved). */
const POWER_USERS_D1 = (DEFINITIONS['power_users.yaml'] as string)
  .replace('count: {gte: 40}', 'count: {gte: 30}')
  .replace(/^change_reason: .*\n/m, '');
const POWER_USERS_D2 = (DEFINITIONS['power_users.yaml'] as string)
  .replace('count: {gte: 40}', 'count: {gte: 35}')
  .replace(/^change_reason: .*$/m, 'change_reason: Thirty uses let trial teams in.');
/** A core cohort whose file was removed: the refresh refused that and keeps refreshing its accepted definition. */
const LEGACY_CORE = `id: legacy_core
name: Legacy core
owner: growth-analytics
purpose: The old core segment.
tier: core
cadence: monthly
rule:
  event: login
`;

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

const pass = (name: string, observed: number, threshold: number): CheckResult => ({
  name,
  status: 'pass',
  observed,
  threshold,
  message: `${name} ok`,
});

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
        {
          name: 'max_change_pct',
          status: 'fail',
          observed: 102.6,
          threshold: 50,
          message: 'size moved from 1234 to 2500 (102.6%); at most 50% allowed',
        },
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

const parsed = (text: string, path: string) => {
  const result = parseDefinition(text, path);
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.definition;
};

const accepted = (
  text: string,
  path: string,
  facts: Pick<DefinitionVersion, 'version' | 'change' | 'accepted_at' | 'author' | 'approval'>,
): DefinitionVersion => {
  const d = parsed(text, path);
  return {
    cohort: d.id,
    hash: d.hash,
    path,
    text,
    tier: d.tier,
    cadence: d.cadence,
    change_reason: d.change_reason ?? null,
    run_id: `run-${facts.accepted_at.slice(0, 10)}`,
    ...facts,
  };
};

/**
 * The catalog's audit trail: every cohort accepted once (d1) as written, except power_users (d1,
 * then d2 approved; its working definition waits for an approval) and legacy_core (accepted, then
 * its file removed: refused).
 */
async function writeGovernance(catalog: CatalogStore, definitions: readonly CohortDefinition[]): Promise<void> {
  const texts = fixtureTexts();
  const first = {
    version: 1,
    change: 'added',
    accepted_at: '2024-01-01T00:00:00.000Z',
    author: 'ana <ana@example.com>',
    approval: null,
  } as const;
  for (const d of definitions.filter((x) => x.id !== 'power_users'))
    await catalog.accept(accepted(texts.get(d.id) as string, d.path, first));
  await catalog.accept(accepted(LEGACY_CORE, 'definitions/legacy_core.yaml', first));
  const path = 'definitions/power_users.yaml';
  await catalog.accept(accepted(POWER_USERS_D1, path, { ...first, accepted_at: '2024-03-25T09:00:00.000Z' }));
  const approval = {
    cohort: 'power_users',
    hash: parsed(POWER_USERS_D2, path).hash,
    decision: 'approved',
    by: 'lee',
    note: HOSTILE_NOTE,
    at: '2024-04-20T08:00:00.000Z',
  } as const;
  await catalog.decide(approval);
  await catalog.accept(
    accepted(POWER_USERS_D2, path, {
      version: 2,
      change: 'changed',
      accepted_at: '2024-04-21T06:00:00.000Z',
      author: 'bo <bo@example.com>',
      approval,
    }),
  );
  const working = definitions.find((d) => d.id === 'power_users') as CohortDefinition;
  await catalog.record({
    cohort: 'power_users',
    outcome: 'pending',
    hash: working.hash,
    reasons: [
      'core cohort "power_users" needs an approval: its new rule moves its size -30% (2500 -> 1750 members on the current data), more than guardrails.approval_size_change_pct (25%)',
    ],
    author: 'ana <ana@example.com>',
    at: '2024-06-01T00:02:00.000Z',
    run_id: 'run-2024-06-01',
  });
  await catalog.record({
    cohort: 'legacy_core',
    outcome: 'refused',
    hash: null,
    reasons: ['removing the file of core cohort "legacy_core" is refused: retire it with `deprecated: {reason: ..., replaced_by: ...}`'],
    author: null,
    at: '2024-05-15T06:00:00.000Z',
    run_id: 'run-2024-05-15',
  });
}

/** The definition version each fixture manifest was made from (power_users: v1 from d1, v2 and v3 from d2). */
const DEFINITION_OF: Record<string, readonly { readonly text: string; readonly version: number }[]> = {
  power_users: [
    { text: POWER_USERS_D1, version: 1 },
    { text: POWER_USERS_D2, version: 2 },
    { text: POWER_USERS_D2, version: 2 },
  ],
};

/** The YAML of each fixture definition, by id. */
export function fixtureTexts(): ReadonlyMap<string, string> {
  return new Map(Object.entries(DEFINITIONS).map(([name, text]) => [name.replace(/\.yaml$/, ''), text]));
}

/**
 * A snapshot store in a temporary folder holding VERSIONS, with crafted manifests, and the
 * catalog's audit trail in the same state folder (`governance`).
 */
export async function fixtureStore(
  catalog: readonly CohortDefinition[],
): Promise<{ store: SnapshotStore; root: string; governance: CatalogStore }> {
  const root = await tempDir('cohorts-report-');
  const codec = new DuckDbEngine(await openDuckDb(), join(root, 'lake'));
  const blobs = new FsBlobStore(join(root, 'state'));
  const store = new SnapshotStore(blobs, codec);
  const governance = new CatalogStore(blobs);
  await writeGovernance(governance, catalog);
  for (const [cohort, versions] of Object.entries(VERSIONS)) {
    const definition = catalog.find((d) => d.id === cohort);
    if (!definition) throw new Error(`fixture cohort ${cohort} is not in the catalog`);
    for (const [index, partial] of versions.entries()) {
      const version = index + 1;
      const made = DEFINITION_OF[cohort]?.[index];
      const source = made ? parsed(made.text, definition.path) : definition;
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
          hash: source.hash,
          path: definition.path,
          name: definition.name,
          owner: definition.owner,
          tier: definition.tier,
          cadence: definition.cadence,
          version: made?.version ?? 1,
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
  return { store, root, governance };
}
