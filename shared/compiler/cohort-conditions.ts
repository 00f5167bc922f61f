import type { CohortDefinition, Condition } from '../language/ast.ts';
import type { Leaf } from '../language/condition-leaves.ts';

/** A leaf that tests events (every leaf but a cohort reference). */
export type MeasureLeaf = Exclude<Leaf, { readonly kind: 'cohort' }>;

/**
 * The cohorts' conditions as SQL booleans: `all`/`any`/`not` combine the leaves' tests, and a
 * cohort reference is the referenced cohort's condition, each cohort written once, in the same
 * pass. The leaves' tests come from the query that owns the aggregates.
 */
export class CohortConditions {
  private readonly sql = new Map<string, string>();
  private readonly byId: ReadonlyMap<string, CohortDefinition>;

  constructor(
    cohorts: readonly CohortDefinition[],
    private readonly leaf: (leaf: MeasureLeaf) => string,
  ) {
    this.byId = new Map(cohorts.map((c) => [c.id, c]));
  }

  /** The condition of a cohort of the refresh. */
  cohort(id: string): string {
    const known = this.sql.get(id);
    if (known) return known;
    const definition = this.byId.get(id);
    if (!definition) throw new Error(`cohort "${id}" is referenced but not part of this refresh`);
    const sql = this.condition(definition.rule);
    this.sql.set(id, sql);
    return sql;
  }

  private condition(condition: Condition): string {
    switch (condition.kind) {
      case 'all':
        return `(${condition.items.map((c) => this.condition(c)).join(' AND ')})`;
      case 'any':
        return `(${condition.items.map((c) => this.condition(c)).join(' OR ')})`;
      case 'not':
        return `(NOT ${this.condition(condition.item)})`;
      case 'cohort':
        return this.cohort(condition.id);
      default:
        return this.leaf(condition);
    }
  }
}
