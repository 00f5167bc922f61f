import type { CohortDefinition } from '../../shared/language/ast.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import type { DefinitionVersion } from '../../shared/governance/records.ts';
import { type EventRow, login } from '../support/lake.ts';

/** Logins as of 2024-06-01: within 7 days ann and bob; within 30 days also cy and dee. */
export const LOGIN_EVENTS: readonly EventRow[] = [
  login('1', 'ann', '2024-05-31T10:00:00Z'),
  login('2', 'bob', '2024-05-29T10:00:00Z'),
  login('3', 'cy', '2024-05-20T10:00:00Z'),
  login('4', 'dee', '2024-05-10T10:00:00Z'),
];
/** Rules over LOGIN_EVENTS: a login within 7 days (2 members), within 30 days (4 members). */
export const WEEK_OF_LOGINS = '  event: login\n  within: 7d';
export const MONTH_OF_LOGINS = '  event: login\n  within: 30d';

/** A definition's YAML: a core cohort of logins unless the options say otherwise. */
export function definitionYaml(
  id: string,
  options: { tier?: string; cadence?: string; rule?: string; reason?: string; extra?: string } = {},
): string {
  return [
    `id: ${id}`,
    `name: ${id}`,
    'owner: test-team',
    'purpose: A test cohort.',
    `tier: ${options.tier ?? 'core'}`,
    `cadence: ${options.cadence ?? 'daily'}`,
    `rule:\n${options.rule ?? '  event: login\n  within: 7d'}`,
    ...(options.reason ? [`change_reason: ${options.reason}`] : []),
    ...(options.extra ? [options.extra] : []),
    '',
  ].join('\n');
}

/** Valid definitions from YAML texts by id (throws on a problem). */
export function definitions(texts: Record<string, string>): CohortDefinition[] {
  const catalog = buildCatalog(Object.entries(texts).map(([id, text]) => ({ path: `definitions/${id}.yaml`, text })));
  if (catalog.problems.length > 0) throw new Error(catalog.problems.map((p) => p.message).join('\n'));
  return [...catalog.definitions];
}

/** Catalog entries (version 1, accepted) for definitions given as YAML. */
export function entries(texts: Record<string, string>): Map<string, DefinitionVersion> {
  return new Map(
    definitions(texts).map((d) => [
      d.id,
      {
        cohort: d.id,
        version: 1,
        change: 'added',
        hash: d.hash,
        path: d.path,
        text: texts[d.id] as string,
        tier: d.tier,
        cadence: d.cadence,
        change_reason: d.change_reason ?? null,
        author: null,
        accepted_at: '2024-06-01T00:00:00.000Z',
        run_id: 'run-1',
        approval: null,
      },
    ]),
  );
}
