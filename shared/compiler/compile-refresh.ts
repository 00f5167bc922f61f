import type { MetricSettings } from '../config/schema.ts';
import type { CohortDefinition, Condition, EventFilter, Window } from '../language/ast.ts';
import type { Dialect } from './dialect.ts';
import { anyScopeSql, type EventScope, scopeOf, scopeParts } from './event-scope.ts';
import { normalizedIdSql, presentIdSql } from './normalize-id.ts';
import { partitionDate } from './partition-date.ts';
import { boundsHoldForInfinity, boundsPredicate, conjunction, type PropertyValue, propertyPredicate } from './predicates.ts';
import { identifier, stringLiteral } from './sql-text.ts';

/**
 * Where the compiled query reads the lake. Each is a SQL relation (a table name or a
 * parenthesised subquery) built by the engine adapter from validated locations.
 * `events` yields event_id, source, user_id, event_name (VARCHAR), ts (the dialect's instant type:
 * TIMESTAMP WITH TIME ZONE in Athena, a TIMESTAMP holding UTC in DuckDB; NULL when unparsable),
 * properties (JSON text), value (DOUBLE) and dt (VARCHAR).
 * `identities` yields source, user_id, person_id.
 */
export interface LakeRelations {
  readonly events: string;
  readonly identities: string;
}

/** What to compile: the cohorts of one refresh (with everything they reference) at one instant. */
export interface CompileRequest {
  readonly cohorts: readonly CohortDefinition[];
  readonly asOf: Date;
  readonly lake: LakeRelations;
  readonly dialect: Dialect;
  /** The KPI metrics to compute per person in the same pass; none when absent. */
  readonly metrics?: MetricSettings;
}

/** The per-person metric columns of a refresh's result. */
export interface MetricColumns {
  /** Boolean: the person did the activation event in its window. */
  readonly activated: string;
  /** Double: the sum of the person's `value` over the value metric's events (0 without any). */
  readonly value: string;
}

/** The one query of a refresh and how to read its result. */
export interface CompiledRefresh {
  /** One row per person of the population: `person_id` and one boolean column per cohort. */
  readonly sql: string;
  /** The membership column of each cohort id. */
  readonly columns: ReadonlyMap<string, string>;
  /** The metric columns, when metrics were requested. */
  readonly metrics?: MetricColumns;
  /** The `dt` partitions read for the behaviour scan (`from` absent: all history). */
  readonly partitions: { readonly from?: string; readonly to: string };
  /** Whether the population needed a second, narrow scan of all history. */
  readonly separatePopulationScan: boolean;
  /** Properties extracted from each event, once per row. */
  readonly properties: readonly string[];
}

const DAY_MS = 86_400_000;
/** Columns of a valid behaviour event, as de-duplication passes them on. */
const BEHAVIOUR_COLUMNS = ['event_id', 'source', 'user_key', 'event_name', 'ts', 'properties', 'value'] as const;
/** Which copy of an event_id counts: the first in this order (SPEC leaves it unspecified; both engines agree). */
const COPY_ORDER = ['ts', 'source', 'user_key', 'event_name', 'properties', 'value'] as const;
/** The JSON number grammar of SPEC section 4: a value whose text matches it is numeric. */
export const NUMERIC_TEXT = '-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?';

/** Earliest instant a window can admit; undefined for all history. */
function windowStart(window: Window | undefined, asOf: number): number | undefined {
  if (!window || window.kind === 'before') return undefined;
  return asOf - (window.kind === 'within' ? window.duration.ms : window.from.ms);
}

/**
 * Compiles every selected cohort into one query: one scan of the events (partitions pruned to
 * the widest window needed), each JSON property extracted once per row, one aggregation per
 * person, and one boolean per cohort. Cohort references are evaluated in the same pass.
 */
export function compileRefresh(request: CompileRequest): CompiledRefresh {
  return new RefreshCompiler(request).compile();
}

class RefreshCompiler {
  private readonly asOf: number;
  private readonly d: Dialect;
  private readonly properties = new Map<string, number>();
  private readonly aggregates = new Map<string, string>();
  /** Aliases of latest-value aggregates, whose text and number are derived per person. */
  private readonly latestValues = new Set<string>();
  private readonly cohortSql = new Map<string, string>();
  private readonly byId: ReadonlyMap<string, CohortDefinition>;
  /** Earliest instant any leaf needs; null once a leaf needs all history. */
  private earliest: number | null | undefined;
  /**
   * Where some leaf reads properties: the event names, sources and window of its filter (never
   * its `where`, which reads them); 'any' once a leaf reads them for every event.
   */
  private readonly propertyScopes: EventScope[] = [];

  constructor(private readonly request: CompileRequest) {
    this.asOf = request.asOf.getTime();
    this.d = request.dialect;
    this.byId = new Map(request.cohorts.map((c) => [c.id, c]));
  }

  compile(): CompiledRefresh {
    const columns = new Map<string, string>();
    const selects: string[] = [];
    for (const cohort of this.request.cohorts) {
      const column = `c_${cohort.id}`;
      columns.set(cohort.id, column);
      selects.push(`${this.cohort(cohort.id)} AS ${identifier(column)}`);
    }
    const metrics = this.request.metrics ? this.metricColumns(this.request.metrics, selects) : undefined;
    const earliest = this.earliest ?? null;
    const behaviourFrom = earliest === null ? undefined : earliest;
    const partitions = {
      ...(behaviourFrom === undefined ? {} : { from: partitionDate(behaviourFrom - DAY_MS) }),
      to: partitionDate(this.asOf + DAY_MS),
    };
    const separatePopulationScan = behaviourFrom !== undefined;
    const sql = this.query(selects, partitions, behaviourFrom);
    return { sql, columns, ...(metrics ? { metrics } : {}), partitions, separatePopulationScan, properties: [...this.properties.keys()] };
  }

  /**
   * The KPI metrics as per-person columns beside the cohorts, compiled like event leaves (so the
   * scan's dt pruning covers their windows): a count of activation events and a sum of `value`.
   */
  private metricColumns(metrics: MetricSettings, selects: string[]): MetricColumns {
    const columns: MetricColumns = { activated: 'm_activated', value: 'm_value' };
    const activations = this.aggregate(countIf(this.match(metrics.activation)));
    const value = this.aggregate(filteredAggregate('sum(e.value)', this.match(metrics.value)));
    selects.push(`${activations} > 0 AS ${identifier(columns.activated)}`, `coalesce(${value}, 0) AS ${identifier(columns.value)}`);
    return columns;
  }

  private query(selects: string[], partitions: { from?: string; to: string }, behaviourFrom: number | undefined): string {
    const props = [...this.properties.keys()];
    const typedProps = props.flatMap((_, i) => {
      const json = `p${i}_j`;
      return [`${this.d.scalarText(json)} AS p${i}_t`, `${this.d.present(json)} AS p${i}_x`];
    });
    const numberedProps = props.map(
      (_, i) => `CASE WHEN ${this.d.fullMatch(`p${i}_t`, NUMERIC_TEXT)} THEN ${this.d.tryDouble(`p${i}_t`)} END AS p${i}_n`,
    );
    const latestProps = [...this.latestValues].flatMap((alias) => [
      `${this.d.scalarText(alias)} AS ${alias}_t`,
      `${alias} IS NOT NULL AS ${alias}_x`,
    ]);
    const latestNumbers = [...this.latestValues].map(
      (alias) => `CASE WHEN ${this.d.fullMatch(`${alias}_t`, NUMERIC_TEXT)} THEN ${this.d.tryDouble(`${alias}_t`)} END AS ${alias}_n`,
    );
    const aggregates = [...this.aggregates.entries()].map(([sql, alias]) => `${sql} AS ${alias}`);
    const ctes: string[] = [
      `identity_map AS (\n  SELECT source, user_key, min(person_id) AS person_id\n  FROM (SELECT source, ${normalizedIdSql(this.d, 'user_id')} AS user_key, person_id FROM ${this.request.lake.identities} AS identities) AS i\n  WHERE person_id IS NOT NULL AND person_id <> '' AND user_key IS NOT NULL AND user_key <> '' AND source IS NOT NULL\n  GROUP BY source, user_key\n)`,
      ...this.deduplicatedEvents(partitions, behaviourFrom),
      `events AS (\n  SELECT coalesce(m.person_id, e.user_key) AS person_id, e.event_id, e.source, e.event_name, e.ts, e.value${this.d
        .extractProperties('e.properties', props, this.extractionGuard())
        .map((s) => `, ${s}`)
        .join('')}\n  FROM behaviour_deduped AS e\n  LEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key\n)`,
      `typed_events AS (\n  SELECT person_id, event_id, source, event_name, ts, value${props.map((_, i) => `, ${this.d.propertyJson(i)} AS p${i}_j`).join('')}\n  FROM events\n)`,
      `valued_events AS (\n  SELECT *${typedProps.map((s) => `, ${s}`).join('')}\n  FROM typed_events\n)`,
      `scored_events AS (\n  SELECT *${numberedProps.map((s) => `, ${s}`).join('')}\n  FROM valued_events\n)`,
    ];
    if (behaviourFrom !== undefined) {
      ctes.push(this.validEvents('population_valid', [], { to: partitions.to }, undefined));
      ctes.push(
        `population AS (\n  SELECT DISTINCT coalesce(m.person_id, e.user_key) AS person_id\n  FROM population_valid AS e\n  LEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key\n)`,
      );
      ctes.push(
        `per_person AS (\n  SELECT p.person_id${aggregates.map((s) => `,\n    ${s}`).join('')}\n  FROM population AS p\n  LEFT JOIN scored_events AS e ON e.person_id = p.person_id\n  GROUP BY p.person_id\n)`,
      );
    } else {
      ctes.push(
        `per_person AS (\n  SELECT person_id${aggregates.map((s) => `,\n    ${s}`).join('')}\n  FROM scored_events AS e\n  GROUP BY person_id\n)`,
      );
    }
    ctes.push(`per_person_valued AS (\n  SELECT *${latestProps.map((s) => `, ${s}`).join('')}\n  FROM per_person\n)`);
    ctes.push(`per_person_scored AS (\n  SELECT *${latestNumbers.map((s) => `, ${s}`).join('')}\n  FROM per_person_valued\n)`);
    return `-- cohort-refresh: ${this.request.cohorts.length} cohorts as of ${new Date(this.asOf).toISOString()}\nWITH ${ctes.join(',\n')}\nSELECT person_id,\n  ${selects.join(',\n  ')}\nFROM per_person_scored`;
  }

  /** Valid behaviour events with one copy per event_id (see Dialect.deduplication). */
  private deduplicatedEvents(partitions: { from?: string; to: string }, behaviourFrom: number | undefined): string[] {
    const columns = BEHAVIOUR_COLUMNS.join(', ');
    const firstCopies = (where: string) =>
      `SELECT ${columns} FROM (\n    SELECT v.*, row_number() OVER (PARTITION BY event_id ORDER BY ${COPY_ORDER.join(', ')}) AS copy_no\n` +
      `    FROM behaviour_valid AS v${where}\n  ) AS numbered_copies\n  WHERE copy_no = 1`;
    if (this.d.deduplication === 'window') {
      return [
        this.validEvents('behaviour_valid', ['properties', 'value'], partitions, behaviourFrom),
        `behaviour_deduped AS (\n  ${firstCopies('')}\n)`,
      ];
    }
    // Every repeated event_id repeats its hash; a hash may repeat without its event_id repeating
    // (a collision), which only sends a few more rows through the exact window.
    const key = this.d.hash('event_id');
    return [
      this.validEvents('behaviour_valid', ['properties', 'value'], partitions, behaviourFrom, true),
      `repeated_event_ids AS (\n  SELECT ${key} AS id_hash\n  FROM ${this.request.lake.events} AS lake_events\n  WHERE ${partitionFilter(partitions)}\n  GROUP BY ${key}\n  HAVING count(*) > 1\n)`,
      `behaviour_deduped AS (\n  SELECT ${columns} FROM behaviour_valid WHERE ${this.d.hash('behaviour_valid.event_id')} NOT IN (SELECT id_hash FROM repeated_event_ids)\n  UNION ALL\n  ` +
        `${firstCopies(` WHERE ${this.d.hash('v.event_id')} IN (SELECT id_hash FROM repeated_event_ids)`)}\n)`,
    ];
  }

  /**
   * Only events some leaf reads properties of need their JSON parsed: every aggregate that reads
   * a property is filtered by its leaf's scope, so outside every scope the values are never read.
   */
  private extractionGuard(): string | undefined {
    const guard = anyScopeSql(this.propertyScopes, this.d);
    return guard === 'TRUE' ? undefined : guard;
  }

  /** Records that a leaf reads properties of the events its filter's scope admits. */
  private readsProperties(filter: EventFilter): void {
    this.propertyScopes.push(scopeOf(filter, this.asOf));
  }

  /** Valid events (SPEC section 1) before T, with the person's normalized id as user_key. */
  private validEvents(
    name: string,
    extra: string[],
    partitions: { from?: string; to: string },
    from: number | undefined,
    inline = false,
  ): string {
    const T = this.d.timestamp(this.asOf);
    const dt = partitionFilter(partitions);
    const since = from === undefined ? '' : ` AND ts >= ${this.d.timestamp(from)}`;
    const columns = ['event_id', 'source', 'user_key', 'event_name', 'ts', ...extra].join(', ');
    return (
      // Read twice (DuckDB's de-duplication): scanning again costs less than keeping every row in memory.
      `${name} AS ${inline ? 'NOT MATERIALIZED ' : ''}(\n  SELECT ${columns}\n  FROM (\n    SELECT event_id, source, ${normalizedIdSql(this.d, 'user_id')} AS user_key, event_name, ts${extra.map((c) => `, ${c}`).join('')}\n` +
      `    FROM ${this.request.lake.events} AS lake_events\n    WHERE ${dt} AND ${presentIdSql(this.d, 'user_id')}\n  ) AS scanned\n` +
      `  WHERE event_id IS NOT NULL AND event_id <> '' AND source IS NOT NULL AND source <> '' AND event_name IS NOT NULL AND event_name <> ''\n` +
      `    AND ts IS NOT NULL AND ts < ${T}${since}\n)`
    );
  }

  private cohort(id: string): string {
    const known = this.cohortSql.get(id);
    if (known) return known;
    const definition = this.byId.get(id);
    if (!definition) throw new Error(`cohort "${id}" is referenced but not part of this refresh`);
    const sql = this.condition(definition.rule);
    this.cohortSql.set(id, sql);
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
      case 'event':
        return this.eventLeaf(condition);
      case 'latest':
        return this.latestLeaf(condition);
      case 'velocity':
        return this.velocityLeaf(condition);
    }
  }

  private eventLeaf(leaf: Extract<Condition, { kind: 'event' }>): string {
    const match = this.match(leaf.filter);
    const filtered = (aggregate: string) => filteredAggregate(aggregate, match);
    const { measure } = leaf;
    switch (measure.kind) {
      case 'count':
        return boundsPredicate(this.aggregate(countIf(match)), measure.bounds);
      case 'sum': {
        if (measure.of !== undefined) this.readsProperties(leaf.filter);
        const summed = measure.of === undefined ? 'e.value' : this.property(measure.of).number;
        return boundsPredicate(`coalesce(${this.aggregate(filtered(`sum(${summed})`))}, 0)`, measure.bounds);
      }
      case 'distinct':
        this.readsProperties(leaf.filter);
        return boundsPredicate(this.aggregate(filtered(`count(DISTINCT ${this.property(measure.of).text})`)), measure.bounds);
    }
  }

  private latestLeaf(leaf: Extract<Condition, { kind: 'latest' }>): string {
    const match = this.match(leaf.filter);
    this.readsProperties(leaf.filter);
    const index = this.propertyIndex(leaf.property);
    const value = this.property(leaf.property);
    const aggregate = `${this.d.latestBy(`e.p${index}_j`, 'e.ts', 'e.event_id')} FILTER (WHERE ${conjunction([match, value.present])})`;
    const alias = this.aggregate(aggregate);
    this.latestValues.add(alias);
    return propertyPredicate({ text: `${alias}_t`, number: `${alias}_n`, present: `${alias}_x` }, leaf.ops);
  }

  private velocityLeaf(leaf: Extract<Condition, { kind: 'velocity' }>): string {
    const w = leaf.window.ms;
    this.needFrom(this.asOf - 2 * w);
    const match = this.match(leaf.filter, false);
    const T = this.asOf;
    const inRange = (from: number, to: number) =>
      conjunction([match, `e.ts >= ${this.d.timestamp(from)}`, `e.ts < ${this.d.timestamp(to)}`]);
    const current = this.aggregate(countIf(inRange(T - w, T)));
    const previous = this.aggregate(countIf(inRange(T - 2 * w, T - w)));
    // With an empty previous window the value is +infinity (current > 0) or absent (both 0).
    const infinite = boundsHoldForInfinity(leaf.bounds) ? ` WHEN ${current} > 0 THEN TRUE` : '';
    return `(CASE WHEN ${previous} > 0 THEN ${boundsPredicate(`CAST(${current} AS DOUBLE) / ${previous}`, leaf.bounds)}${infinite} ELSE FALSE END)`;
  }

  /** Whether an event matches a filter; also widens the scan to the filter's window (unless the caller has its own). */
  private match(filter: EventFilter, widenScan = true): string {
    const parts = scopeParts(scopeOf(filter, this.asOf), this.d);
    if (widenScan) {
      const start = windowStart(filter.window, this.asOf);
      if (start === undefined) this.earliest = null;
      else this.needFrom(start);
    }
    if (filter.where.length > 0) this.readsProperties(filter);
    for (const { property, ops } of filter.where) parts.push(propertyPredicate(this.property(property), ops));
    return conjunction(parts);
  }

  private needFrom(start: number): void {
    if (this.earliest === null) return;
    this.earliest = this.earliest === undefined ? start : Math.min(this.earliest, start);
  }

  private propertyIndex(name: string): number {
    let index = this.properties.get(name);
    if (index === undefined) {
      index = this.properties.size;
      this.properties.set(name, index);
    }
    return index;
  }

  private property(name: string): PropertyValue {
    const i = this.propertyIndex(name);
    return { text: `e.p${i}_t`, number: `e.p${i}_n`, present: `e.p${i}_x` };
  }

  private aggregate(sql: string): string {
    let alias = this.aggregates.get(sql);
    if (alias === undefined) {
      alias = `a${this.aggregates.size}`;
      this.aggregates.set(sql, alias);
    }
    return alias;
  }
}

/**
 * Matching events of a person. count_if is several times faster in DuckDB than count(...)
 * FILTER (WHERE ...) over tens of aggregates, and Trino has it too. With the population scan's
 * LEFT JOIN, a person without events brings one row of NULLs, which no condition counts; over
 * that row alone DuckDB's count_if is NULL (Trino's is 0), so the count is coalesced to 0.
 */
function countIf(match: string): string {
  return `coalesce(count_if(${match === 'TRUE' ? 'e.event_id IS NOT NULL' : match}), 0)`;
}

/** An aggregate over the events that match. */
function filteredAggregate(aggregate: string, match: string): string {
  return match === 'TRUE' ? aggregate : `${aggregate} FILTER (WHERE ${match})`;
}

/** The `dt` partitions a scan reads. */
function partitionFilter(partitions: { from?: string; to: string }): string {
  return [partitions.from ? `dt >= ${stringLiteral(partitions.from)}` : undefined, `dt <= ${stringLiteral(partitions.to)}`]
    .filter(Boolean)
    .join(' AND ');
}
