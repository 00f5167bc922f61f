import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { formatProblem } from '../../shared/language/errors.ts';

const definition = (quality: string) =>
  buildCatalog([
    {
      path: 'definitions/logged_in.yaml',
      text: `id: logged_in\nname: Logged in\nowner: t\npurpose: A test cohort.\ncadence: daily\nrule:\n  event: login\nquality:\n${quality}`,
    },
  ]);

describe('quality.kpis in a definition', () => {
  it('reads the KPI shift levels and the minimum size', () => {
    const { definitions, problems } = definition(
      '  kpis:\n    min_size: 50\n    activation_change: {warn: 5, fail: 20}\n    value_change: {fail: 80}\n    history_z: {warn: 4}\n',
    );
    expect(problems).toEqual([]);
    expect(definitions[0]?.quality?.kpis).toEqual({
      min_size: 50,
      activation_change: { warn: 5, fail: 20 },
      value_change: { fail: 80 },
      history_z: { warn: 4 },
    });
  });

  it('refuses an unknown key, a negative level and a warn level above fail, with the place', () => {
    const lines = (quality: string) => definition(quality).problems.map(formatProblem);
    expect(lines('  kpis:\n    activation_drop: {warn: 5}\n')).toEqual([
      'definitions/logged_in.yaml:10:5: quality.kpis: unknown key "activation_drop" (a typo is never ignored)',
    ]);
    expect(lines('  kpis:\n    value_change: {warn: -1}\n')[0]).toBe(
      'definitions/logged_in.yaml:10:26: quality.kpis.value_change.warn must not be negative',
    );
    expect(lines('  kpis:\n    history_z: {warn: 9, fail: 4}\n')[0]).toMatch(
      /^definitions\/logged_in\.yaml:10:16: quality\.kpis\.history_z.* warn must not be above fail$/,
    );
  });
});
