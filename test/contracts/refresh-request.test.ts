import { describe, expect, it } from 'vitest';
import { approvalRefresh } from '../../shared/governance/decide.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { definitionChangeRefresh, refreshInputSchema } from '../../shared/refresh-request.ts';
import { header } from '../support/lake.ts';

/** base <- direct <- indirect; base <- retired (deprecated); unrelated reads nothing. */
const CATALOG = buildCatalog([
  { path: 'unrelated.yaml', text: `${header('unrelated')}rule:\n  event: login\n` },
  { path: 'indirect.yaml', text: `${header('indirect')}rule:\n  cohort: direct\n` },
  { path: 'retired.yaml', text: `${header('retired', 'deprecated:\n  reason: Replaced.\n')}rule:\n  cohort: base\n` },
  { path: 'direct.yaml', text: `${header('direct')}rule:\n  all:\n    - cohort: base\n    - event: purchase\n` },
  { path: 'base.yaml', text: `${header('base', 'change_reason: Shorter window.\n')}rule:\n  event: login\n  within: 14d\n` },
]);

describe('definitionChangeRefresh', () => {
  it('refreshes the cohort, then every live cohort reading it directly or through others, with the change reason', () => {
    // GIVEN a valid catalog
    expect(CATALOG.problems).toEqual([]);

    // WHEN base changes
    const input = definitionChangeRefresh(CATALOG.definitions, 'base', 'Shorter window.');

    // THEN base and its live dependants are refreshed as a definition change; the deprecated reader is not
    expect(input).toEqual({ trigger: 'definition-change', cohorts: ['base', 'direct', 'indirect'], rationale: 'Shorter window.' });
    expect(refreshInputSchema.parse(input)).toEqual(input);
  });

  it('names no rationale without a change reason, and only the cohort when nothing reads it', () => {
    expect(definitionChangeRefresh(CATALOG.definitions, 'unrelated', undefined)).toEqual({
      trigger: 'definition-change',
      cohorts: ['unrelated'],
    });
  });

  it('is the refresh an approval starts', () => {
    const definition = CATALOG.definitions.find((d) => d.id === 'base')!;
    const record = {
      cohort: 'base',
      hash: definition.hash,
      decision: 'approved' as const,
      by: 'ann',
      note: 'ok',
      at: '2024-06-01T00:00:00Z',
    };

    const { input } = approvalRefresh({ record, definition, location: 'catalog/decisions/base.json' }, CATALOG);

    expect(input).toEqual(definitionChangeRefresh(CATALOG.definitions, 'base', definition.change_reason));
  });
});
