import type { z } from 'zod';
import type { EventFilter } from '../language/ast.ts';
import { AT_KEY } from '../language/yaml-file.ts';
import { comparedProperties } from '../language/compared-properties.ts';

/**
 * The personal-property rule (shared/privacy/personal-properties.ts) applied to the KPI metrics:
 * a metric's `where` may test a personal property only with `exists`. A compared value would be
 * copied into the refresh query, so into every manifest's lineage, the report and plans.
 */
export function refusePersonalMetricFilters(
  metrics: Readonly<Record<'activation' | 'value', EventFilter>>,
  personal: readonly string[],
  ctx: z.RefinementCtx,
): void {
  const isPersonal = new Set(personal);
  for (const name of ['activation', 'value'] as const) {
    for (const property of comparedProperties(metrics[name])) {
      if (!isPersonal.has(property)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', name, 'where', property],
        params: AT_KEY,
        input: property,
        message:
          'is personal data (privacy.personal_properties): a metric may only test it with exists: true/false, never compare it with a value ' +
          '(the value would be copied into the lineage query of every manifest, the report and plans); use exists, or filter on another property',
      });
    }
  }
}
