import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CohortDefinition } from '../shared/language/ast.ts';
import { buildCatalog } from '../shared/language/catalog.ts';
import { InvalidDefinitionsError } from '../shared/language/errors.ts';

const header = (id: string, purpose: string) =>
  `id: ${id}\nname: ${id.replaceAll('_', ' ')}\nowner: bench\npurpose: ${purpose}\ntier: tactical\ncadence: daily\n`;

/** Variants a team would add over time: other features, windows, thresholds, plans, countries. */
function variantTexts(): Record<string, string> {
  const texts: Record<string, string> = {};
  const features = ['editor', 'dashboards', 'reports', 'export', 'api', 'integrations'];
  for (const feature of features) {
    for (const [window, count] of [
      ['7d', 2],
      ['30d', 5],
    ] as const) {
      const id = `uses_${feature}_${window}`;
      texts[id] =
        `${header(id, `Used ${feature} at least ${count} times within ${window}.`)}rule:\n  event: feature_used\n  where: {feature: ${feature}}\n  within: ${window}\n  count: {gte: ${count}}\n`;
    }
  }
  for (const [id, window, amount] of [
    ['revenue_30d_100', '30d', 100],
    ['revenue_60d_500', '60d', 500],
    ['revenue_90d_2000', '90d', 2000],
  ] as const) {
    texts[id] =
      `${header(id, `Paid ${amount} or more within ${window}.`)}rule:\n  event: invoice_paid\n  within: ${window}\n  sum: {gte: ${amount}}\n`;
  }
  for (const plan of ['free', 'starter', 'pro', 'team']) {
    const id = `plan_${plan}`;
    texts[id] =
      `${header(id, `Last plan recorded by billing is ${plan}.`)}rule:\n  latest: {event: subscription_changed, source: billing, property: plan}\n  eq: ${plan}\n`;
  }
  for (const [id, countries] of [
    ['country_us_ca', '[US, CA]'],
    ['country_uk_ie', '[GB, IE]'],
    ['country_nordics', '[SE, NO, DK, FI]'],
  ] as const) {
    texts[id] =
      `${header(id, `Last known country in ${countries}.`)}rule:\n  latest: {event: profile_updated, source: crm, property: country}\n  in: ${countries}\n`;
  }
  for (const [id, window, bound] of [
    ['velocity_drop_7d', '7d', 'lte: 0.5'],
    ['velocity_up_7d', '7d', 'gte: 1.5'],
    ['velocity_drop_28d', '28d', 'lte: 0.7'],
  ] as const) {
    texts[id] =
      `${header(id, `Product activity velocity over ${window}.`)}rule:\n  velocity: {event: "*", source: product, window: ${window}}\n  ${bound}\n`;
  }
  texts.searchers_30d = `${header('searchers_30d', 'Searched ten times within 30 days.')}rule:\n  event: search_performed\n  within: 30d\n  count: {gte: 10}\n`;
  texts.feature_breadth_30d = `${header('feature_breadth_30d', 'Used four different features within 30 days.')}rule:\n  event: feature_used\n  within: 30d\n  distinct: {of: feature, gte: 4}\n`;
  texts.urgent_tickets_30d = `${header('urgent_tickets_30d', 'Opened an urgent or high ticket within 30 days.')}rule:\n  event: ticket_opened\n  where: {priority: {in: [urgent, high]}}\n  within: 30d\n`;
  texts.inviters_no_exports = `${header('inviters_no_exports', 'Invited colleagues but never exported.')}rule:\n  all:\n    - event: invite_sent\n      within: 30d\n    - not: {event: export_created}\n`;
  texts.lapsed_payers = `${header('lapsed_payers', 'Paid between 60 and 30 days ago, not since.')}rule:\n  all:\n    - event: invoice_paid\n      between: [60d, 30d]\n    - not: {event: invoice_paid, within: 30d}\n`;
  return texts;
}

/** The bench catalog: the default catalog plus variants, 50 cohorts in all. */
export async function benchCatalog(definitionsDir: string): Promise<CohortDefinition[]> {
  return (await benchSource(definitionsDir)).definitions;
}

/** The bench catalog with each definition's text by cohort id (what a definitions source gives the steps). */
export async function benchSource(definitionsDir: string): Promise<{ definitions: CohortDefinition[]; texts: Map<string, string> }> {
  const names = (await readdir(definitionsDir)).filter((n) => n.endsWith('.yaml'));
  const files = await Promise.all(
    names.map(async (n) => ({ path: join(definitionsDir, n), text: await readFile(join(definitionsDir, n), 'utf8') })),
  );
  const variants = Object.entries(variantTexts()).map(([id, text]) => ({ path: `bench/${id}.yaml`, text }));
  const catalog = buildCatalog([...files, ...variants]);
  if (catalog.problems.length > 0) throw new InvalidDefinitionsError(catalog.problems);
  const live = catalog.definitions.filter((d) => !d.deprecated).slice(0, 50);
  return { definitions: live, texts: new Map(live.map((d) => [d.id, catalog.texts?.get(d.id) ?? ''])) };
}
