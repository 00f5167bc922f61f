import { describe, expect, it } from 'vitest';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';
import { formatProblem } from '../../shared/language/errors.ts';
import { cohortGraph, dependencyOrder } from '../../shared/language/graph.ts';
import { parseDefinition } from '../../shared/language/parse-definition.ts';

const file = (id: string, rule: string) => ({
  path: `definitions/${id}.yaml`,
  text: `id: ${id}\nname: ${id}\nowner: t\npurpose: A test cohort.\ncadence: daily\nrule:\n${rule}`,
});

const definition = (id: string, rule: string): CohortDefinition => {
  const parsed = parseDefinition(file(id, rule).text, file(id, rule).path);
  if (!parsed.ok) throw new Error(parsed.problems.map(formatProblem).join('\n'));
  return parsed.definition;
};

const ids = (definitions: readonly CohortDefinition[]) => definitions.map((d) => d.id);

// base <- buyer <- (vip, lapsed); vip also reads base directly; lapsed reads buyer twice.
const catalog = [
  definition('vip', '  all:\n    - cohort: buyer\n    - cohort: base\n'),
  definition('base', '  event: login\n'),
  definition('lapsed', '  all:\n    - cohort: buyer\n    - not:\n        cohort: buyer\n'),
  definition('buyer', '  all:\n    - cohort: base\n    - event: purchase\n'),
];

describe('the catalog graph', () => {
  it('lists direct dependencies once each in the order written, and direct dependants in catalog order', () => {
    const graph = cohortGraph(catalog);
    expect(graph.dependencies('vip')).toEqual(['buyer', 'base']);
    expect(graph.dependencies('lapsed')).toEqual(['buyer']);
    expect(graph.dependencies('base')).toEqual([]);
    expect(graph.dependants('base')).toEqual(['vip', 'buyer']);
    expect(graph.dependants('buyer')).toEqual(['vip', 'lapsed']);
  });

  it('walks the closure either way without the starting cohorts, and returns reached definitions in catalog order', () => {
    const graph = cohortGraph(catalog);
    expect(graph.closure(['vip'], 'dependencies')).toEqual(['buyer', 'base']);
    expect(graph.closure(['base'], 'dependants')).toEqual(['vip', 'buyer', 'lapsed']);
    expect(graph.closure(['buyer', 'base'], 'dependants')).toEqual(['vip', 'lapsed']);
    expect(ids(graph.reached('base', 'dependants'))).toEqual(['vip', 'lapsed', 'buyer']);
    expect(ids(graph.reached('lapsed', 'dependencies'))).toEqual(['base', 'buyer']);
  });

  it('orders a cohort after every cohort it references', () => {
    const ordered = dependencyOrder(catalog);
    expect(ordered.ok && ids(ordered.order)).toEqual(['base', 'buyer', 'lapsed', 'vip']);
    expect(ids(buildCatalog(catalog.map((d) => file(d.id, '  event: x\n'))).definitions)).toEqual(['base', 'buyer', 'lapsed', 'vip']);
  });

  it('names the first cycle met, at the reference that closes it', () => {
    const loop: [string, string][] = [
      ['one', '  cohort: two\n'],
      ['two', '  any:\n    - event: x\n    - cohort: one\n'],
    ];
    const looped = [...catalog, ...loop.map(([id, rule]) => definition(id, rule))];
    const ordered = dependencyOrder(looped);
    expect(ordered.ok).toBe(false);
    if (ordered.ok) return;
    expect(ordered.cycle.from.id).toBe('two');
    expect(ordered.cycle.loop).toEqual(['one', 'two', 'one']);
    expect(ordered.cycle.reference.position).toEqual({ line: 9, col: 15 });
    expect(buildCatalog(loop.map(([id, rule]) => file(id, rule))).problems.map(formatProblem)).toEqual([
      'definitions/two.yaml:9:15: cohort references form a cycle: one -> two -> one',
    ]);
  });

  it('reports a cycle beside other problems, and a reference to a file that does not parse as that, not as a missing cohort', () => {
    const files = [
      file('one', '  cohort: two\n'),
      file('two', '  cohort: one\n'),
      { path: 'definitions/base.yaml', text: file('base', '  event: login\n').text.replace('cadence:', 'cadance:') },
      file('vip', '  all:\n    - cohort: base\n    - cohort: nobody\n'),
    ];
    const problems = buildCatalog(files).problems.map(formatProblem);
    expect(problems).toContain('definitions/two.yaml:7:11: cohort references form a cycle: one -> two -> one');
    expect(problems).toContain(
      'definitions/vip.yaml:8:15: cohort "base" cannot be read: its file definitions/base.yaml has problems of its own (fix those first)',
    );
    expect(problems).toContain('definitions/vip.yaml:9:15: cohort "nobody" does not exist: no definition has that id');
    expect(problems.filter((line) => line.startsWith('definitions/base.yaml:'))).not.toEqual([]);
  });
});
