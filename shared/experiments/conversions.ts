import { compileRefresh } from '../compiler/compile-refresh.ts';
import type { CohortDefinition } from '../language/ast.ts';
import type { Duration } from '../language/duration.ts';
import type { QueryEngine } from '../ports.ts';

/** A metric definition's stand-in id; never a catalog cohort (it is compiled on its own). */
const metricId = (index: number) => `metric_${index + 1}`;

/**
 * Who did each event in `[start, start + within)`: one query through the real compiler, each metric
 * an event leaf `within` evaluated at `start + within`, so validity, de-duplication, id
 * normalization and the identity map apply exactly as in a refresh. Returns the people per metric.
 */
export async function convertedPeople(
  engine: QueryEngine,
  metrics: readonly string[],
  start: Date,
  within: Duration,
  runId: string,
): Promise<Map<string, Set<string>>> {
  const definitions = metrics.map(
    (event, index): CohortDefinition => ({
      id: metricId(index),
      name: `did ${event}`,
      owner: 'cohorts experiment',
      purpose: `People who did ${event} within ${within.text} after ${start.toISOString()}.`,
      tier: 'experimental',
      cadence: 'daily',
      rule: {
        kind: 'event',
        filter: { events: [event], where: [], window: { kind: 'within', duration: within } },
        measure: { kind: 'count', bounds: { gte: 1 } },
      },
      path: '(experiment metric)',
      hash: '',
    }),
  );
  const lake = await engine.lake();
  const compiled = compileRefresh({
    cohorts: definitions,
    asOf: new Date(start.getTime() + within.ms),
    lake: lake.relations,
    dialect: engine.dialect,
  });
  const result = await engine.evaluate(compiled.sql, runId);
  try {
    const converted = new Map<string, Set<string>>();
    for (const [index, event] of metrics.entries()) {
      converted.set(event, new Set(await engine.members(result, compiled.columns.get(metricId(index)) as string)));
    }
    return converted;
  } finally {
    await engine.release(result);
  }
}
