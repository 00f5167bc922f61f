import { aggregateAlias } from '../compiler/aggregate-alias.ts';
import { CohortConditions, type MeasureLeaf } from '../compiler/cohort-conditions.ts';
import type { Dialect } from '../compiler/dialect.ts';
import { ListMembership } from '../compiler/list-membership.ts';
import { moreItems, nonEmpty, numberOfTextSql } from '../compiler/event-rows.ts';
import { normalizedIdSql } from '../compiler/normalize-id.ts';
import { periodsPredicate } from '../compiler/periods.ts';
import { boundsHoldForInfinity, boundsPredicate, propertyPredicate } from '../compiler/predicates.ts';
import { integerLiteral } from '../compiler/sql-text.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { carriedPersonSum } from './carry-sql.ts';
import { leafUses, type MeasureUse } from './measures.ts';
import { type SequenceUse, sequenceUse } from './sequence-uses.ts';
import { RAW_PARTS } from './tiled-parts.ts';
import type { PlannedSequence, PlannedUse } from './tiled-plan.ts';

/** The identity map as the compiler applies it (SPEC section 1: the smallest person_id per key). */
export function identityMapSql(d: Dialect, identities: string): string {
  return (
    `  SELECT source, user_key, min(person_id) AS person_id\n  FROM (SELECT source, ${normalizedIdSql(d, 'user_id')} AS user_key, person_id FROM ${identities} AS identities) AS i\n` +
    `  WHERE ${nonEmpty('person_id')} AND ${nonEmpty('user_key')} AND source IS NOT NULL\n  GROUP BY source, user_key`
  );
}

/**
 * The per-person aggregates over the parts (one GROUP BY person) and the cohorts' conditions over
 * them, with the full computation's semantics: no events is a count, sum or distinct of 0.
 */
export class TiledSelects {
  private readonly aggregates = new Map<string, string>();
  private readonly latestValues = new Set<string>();
  /** The aliases of the carried count uses' aggregates and the carried column added to each. */
  private readonly carriedAliases = new Map<string, string>();
  private readonly conditions: CohortConditions;
  /** The uploaded lists the conditions read: no tiles, joined to the per-person rows. */
  readonly lists = new ListMembership();

  constructor(
    private readonly d: Dialect,
    cohorts: readonly CohortDefinition[],
    private readonly useOf: (use: MeasureUse) => PlannedUse,
    private readonly asOf: number,
    private readonly sequenceOf?: (sequence: SequenceUse) => PlannedSequence,
    /** The carried partials (carry-sql.ts: one row per identity key) and the carried column of each use number they hold. */
    private readonly carried?: { readonly relation: string; readonly columns: ReadonlyMap<number, string> },
  ) {
    this.conditions = new CohortConditions(cohorts, (leaf) => this.leaf(leaf));
  }

  /** The condition of a cohort (references evaluated in the same pass). */
  cohort(id: string): string {
    return this.conditions.cohort(id);
  }

  private leaf(leaf: MeasureLeaf): string {
    const uses = leafUses(leaf, this.asOf);
    switch (leaf.kind) {
      case 'event': {
        const use = uses[0] as MeasureUse;
        const m = leaf.measure;
        const value = m.kind === 'count' ? this.count(use) : m.kind === 'sum' ? this.sum(use) : this.distinct(use);
        return boundsPredicate(value, m.bounds);
      }
      case 'latest':
      case 'earliest': {
        const alias = this.valueOf(uses[0] as MeasureUse, leaf.kind);
        const asOf = { dialect: this.d, instant: this.asOf };
        return propertyPredicate({ text: `${alias}_t`, number: `${alias}_n`, present: `${alias}_x` }, leaf.ops, asOf);
      }
      case 'velocity': {
        const [current, previous] = [this.count(uses[0] as MeasureUse), this.count(uses[1] as MeasureUse)];
        const infinite = boundsHoldForInfinity(leaf.bounds) ? ` WHEN ${current} > 0 THEN TRUE` : '';
        const ratio = boundsPredicate(`CAST(${current} AS DOUBLE) / ${previous}`, leaf.bounds);
        return `(CASE WHEN ${previous} > 0 THEN ${ratio}${infinite} ELSE FALSE END)`;
      }
      case 'sequence': {
        if (!this.sequenceOf) throw new Error('a sequence needs its planned use (planTiled with the sequences)');
        const no = this.sequenceOf(sequenceUse(leaf, this.asOf)).no;
        return `${this.aggregate(`coalesce(sum(x.n) FILTER (WHERE x.use_no = ${integerLiteral(no)}), 0)`)} > 0`;
      }
      case 'periods':
        return periodsPredicate(
          uses.map((use) => this.count(use)),
          leaf.bounds,
          leaf.periods,
        );
      case 'list':
        return this.lists.column(leaf.name);
    }
  }

  private filter(use: MeasureUse): string {
    return `FILTER (WHERE x.use_no = ${integerLiteral(this.useOf(use).no)})`;
  }

  /** The number of events of a use (0 without any). */
  count(use: MeasureUse): string {
    const alias = this.aggregate(`coalesce(sum(x.n) ${this.filter(use)}, 0)`);
    const column = this.carried?.columns.get(this.useOf(use).no);
    if (column !== undefined) this.carriedAliases.set(alias, column);
    return alias;
  }

  /** The sum of a use (0 without any value). */
  sum(use: MeasureUse): string {
    return this.aggregate(`coalesce(sum(x.total) ${this.filter(use)}, 0)`);
  }

  private distinct(use: MeasureUse): string {
    return this.aggregate(`count(DISTINCT x.value) ${this.filter(use)}`);
  }

  /**
   * The JSON of the latest (earliest) value of a use, by the parts' winning `latest_ts` and
   * `latest_event_id`; its text `_t`, presence `_x` and number `_n` are derived per person.
   */
  private valueOf(use: MeasureUse, kind: 'latest' | 'earliest'): string {
    const by = kind === 'latest' ? this.d.latestBy : this.d.earliestBy;
    const alias = this.aggregate(`${by('x.latest_json', 'x.latest_ts', 'x.latest_event_id')} ${this.filter(use)}`);
    this.latestValues.add(alias);
    return alias;
  }

  private aggregate(sql: string): string {
    return aggregateAlias(this.aggregates, sql);
  }

  /**
   * `per_person` (one GROUP BY person over the parts, plus the carried counts added up per person and
   * joined to it), then the latest values' text and number.
   */
  perPersonCtes(): string[] {
    const person = 'coalesce(m.person_id, x.user_key)';
    const aggregates = [...this.aggregates];
    const latest = [...this.latestValues];
    const valued = latest.flatMap((alias) => [`${this.d.scalarText(alias)} AS ${alias}_t`, `${alias} IS NOT NULL AS ${alias}_x`]);
    const scored = latest.map((alias) => `${numberOfTextSql(this.d, `${alias}_t`)} AS ${alias}_n`);
    const grouped = (name: string, from: string, some: readonly (readonly [string, string])[]) =>
      `${name} AS (\n  SELECT ${person} AS person_id${moreItems(some.map(([sql, alias]) => `${sql} AS ${alias}`))}\n  FROM ${from} AS x\n` +
      `  LEFT JOIN identity_map AS m ON m.source = x.source AND m.user_key = x.user_key\n  GROUP BY ${person}\n)`;
    const rest = [
      `per_person_valued AS (\n  SELECT *${moreItems(valued)}\n  FROM per_person\n)`,
      `per_person_scored AS (\n  SELECT *${moreItems(scored)}\n  FROM per_person_valued\n)`,
    ];
    if (this.carried === undefined || this.carriedAliases.size === 0) return [grouped('per_person', 'parts', aggregates), ...rest];
    // The carried counts: one row per identity key, added up per person, plus the carried uses' raw parts (partial
    // days, contested copies) added up per person over the raw rows alone: each FILTERed aggregate costs per row
    // it reads, and the other parts hold none of these uses.
    const carriedAggregates = [...this.aggregates].filter(([, alias]) => this.carriedAliases.has(alias));
    const otherAggregates = [...this.aggregates].filter(([, alias]) => !this.carriedAliases.has(alias));
    const columns = [...new Set(this.carriedAliases.values())];
    const carriedPerson =
      `carried_person AS (\n  SELECT coalesce(m.person_id, c.user_key) AS person_id${moreItems(columns.map((c) => `${carriedPersonSum(this.d, `c.${c}`)} AS ${c}`))}\n` +
      `  FROM ${this.carried.relation} AS c\n  LEFT JOIN identity_map AS m ON m.source = c.source AND m.user_key = c.user_key\n` +
      '  GROUP BY coalesce(m.person_id, c.user_key)\n)';
    const items = [...this.aggregates.values()].map((alias) => {
      const column = this.carriedAliases.get(alias);
      return column === undefined ? `p.${alias}` : `coalesce(r.${alias}, 0) + coalesce(cp.${column}, 0) AS ${alias}`;
    });
    const perPerson =
      `per_person AS (\n  SELECT p.person_id${moreItems(items)}\n  FROM per_person_parts AS p\n` +
      '  LEFT JOIN carried_raw_person AS r ON r.person_id = p.person_id\n' +
      '  LEFT JOIN carried_person AS cp ON cp.person_id = p.person_id\n)';
    return [
      grouped('per_person_parts', 'parts', otherAggregates),
      grouped('carried_raw_person', RAW_PARTS, carriedAggregates),
      carriedPerson,
      perPerson,
      ...rest,
    ];
  }
}
