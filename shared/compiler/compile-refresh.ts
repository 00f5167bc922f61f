import { aggregateAlias } from './aggregate-alias.ts';
import type { MetricSettings } from '../config/schema.ts';
import type { CohortDefinition, Condition, EventFilter, Sequence } from '../language/ast.ts';
import { stepFilters } from '../language/leaf-filters.ts';
import { CohortConditions, type MeasureLeaf } from './cohort-conditions.ts';
import type { Dialect } from './dialect.ts';
import { anyScopeSql, type EventScope, scopeOf, scopeParts } from './event-scope.ts';
import {
  moreItems,
  nonEmpty,
  numberOfTextSql,
  propertyJsonItem,
  propertyNumberItem,
  propertyValueItems,
  validEventLines,
} from './event-rows.ts';
import { instantBefore } from '../language/window-duration.ts';
import { ListMembership } from './list-membership.ts';
import { normalizedIdSql } from './normalize-id.ts';
import { partitionDate } from './partition-date.ts';
import { periodRanges, periodsPredicate } from './periods.ts';
import { boundsHoldForInfinity, boundsPredicate, conjunction, type PropertyValue, propertyPredicate } from './predicates.ts';
import { sequenceCtes, sequencedPersonsLines } from './sequence-sql.ts';
import { identifier, stringLiteral } from './sql-text.ts';

/**
 * Where the compiled query reads the lake. Each is a SQL relation (a table name or a
 * parenthesised subquery) built by the engine adapter from validated locations.
 * `events` yields event_id, source, user_id, event_name (VARCHAR), ts (the dialect's instant type:
 * TIMESTAMP WITH TIME ZONE in Athena, a TIMESTAMP holding UTC in DuckDB; NULL when unparsable),
 * properties (JSON text), value (DOUBLE) and dt (VARCHAR).
 * `identities` yields source, user_id, person_id.
 * `lists` yields list_name (an uploaded list's base name) and entry (one line of it as written);
 * absent where the engine reads no uploaded lists.
 */
export interface LakeRelations {
  readonly events: string;
  readonly identities: string;
  readonly lists?: string;
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
/**
 * Which copy of an event_id counts: the first in this order (SPEC leaves it unspecified; both engines
 * agree, and so do the tiles, which import it).
 */
export const COPY_ORDER = ['ts', 'source', 'user_key', 'event_name', 'properties', 'value'] as const;
/** The person of an event `e` read with the identity map `m`: the mapped person, else its own user key. */
const PERSON_OF_EVENT = 'coalesce(m.person_id, e.user_key)';
const IDENTITY_JOIN = 'LEFT JOIN identity_map AS m ON m.source = e.source AND m.user_key = e.user_key';

/** The `dt` partitions a scan reads (`from` absent: all history). */
type Partitions = CompiledRefresh['partitions'];

/** The behaviour scan: the partitions it reads and the earliest instant it keeps (undefined: all history). */
interface BehaviourScan {
  readonly partitions: Partitions;
  readonly from: number | undefined;
}

/** One common table expression of the query. */
interface Cte {
  readonly name: string;
  /** The lines of its body, each indented two spaces in the query. */
  readonly lines: readonly string[];
  /** Inlined where it is read instead of computed once (`NOT MATERIALIZED`). */
  readonly inline?: boolean;
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
  /** Aliases of latest- and earliest-value aggregates, whose text and number are derived per person. */
  private readonly latestValues = new Set<string>();
  private readonly conditions: CohortConditions;
  private readonly lists = new ListMembership();
  /** Earliest instant any leaf needs; null once a leaf needs all history. */
  private earliest: number | null | undefined;
  /**
   * Where some leaf reads properties: the event names, sources and window of its filter (never
   * its `where`, which reads them); 'any' once a leaf reads them for every event.
   */
  private readonly propertyScopes: EventScope[] = [];
  /** The sequences read (their steps' SQL and gap), by their column; the same sequence is computed once. */
  private readonly sequences = new Map<string, { readonly column: string; readonly steps: string[]; readonly maxGapMs?: number }>();

  constructor(private readonly request: CompileRequest) {
    this.asOf = request.asOf.getTime();
    this.d = request.dialect;
    this.conditions = new CohortConditions(request.cohorts, (leaf) => this.leaf(leaf));
  }

  compile(): CompiledRefresh {
    const columns = new Map<string, string>();
    const selects: string[] = [];
    for (const cohort of this.request.cohorts) {
      const column = `c_${cohort.id}`;
      columns.set(cohort.id, column);
      selects.push(`${this.conditions.cohort(cohort.id)} AS ${identifier(column)}`);
    }
    const metrics = this.request.metrics ? this.metricColumns(this.request.metrics, selects) : undefined;
    const from = this.earliest ?? undefined;
    const partitions = {
      ...(from === undefined ? {} : { from: partitionDate(from - DAY_MS) }),
      to: partitionDate(this.asOf + DAY_MS),
    };
    const separatePopulationScan = from !== undefined;
    const sql = this.query(selects, { partitions, from });
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

  /**
   * The query of the one-pass plan, once every cohort and metric is compiled: the CTEs in order,
   * then one row per person with the `selects`.
   */
  private query(selects: readonly string[], scan: BehaviourScan): string {
    const listed = this.lists.join(
      this.d,
      this.request.lake.lists,
      this.sequences.size === 0 ? 'per_person_scored' : 'per_person_sequenced',
    );
    const ctes = [
      this.identityMapCte(),
      ...this.behaviourCtes(scan),
      this.eventsCte(),
      this.typedEventsCte(),
      this.valuedEventsCte(),
      this.scoredEventsCte(),
      ...(scan.from === undefined ? [] : this.populationCtes(scan.partitions.to)),
      this.perPersonCte(scan.from !== undefined),
      this.perPersonValuedCte(),
      this.perPersonScoredCte(),
      ...this.sequenceCtes(),
      ...listed.ctes,
    ];
    return [
      `-- cohort-refresh: ${this.request.cohorts.length} cohorts as of ${new Date(this.asOf).toISOString()}`,
      `WITH ${ctes.map(cteText).join(',\n')}`,
      'SELECT person_id,',
      `  ${selects.join(',\n  ')}`,
      `FROM ${listed.from}`,
    ].join('\n');
  }

  /** Each sequence's holders, then `per_person_sequenced`: a boolean per sequence beside the aggregates (none without sequences). */
  private sequenceCtes(): Cte[] {
    if (this.sequences.size === 0) return [];
    const columns = [...this.sequences.values()].map(({ column, steps, maxGapMs }) => {
      const input = { name: `sequence_${column}`, from: 'scored_events AS e', person: 'e.person_id', steps };
      return { column, ctes: sequenceCtes(maxGapMs === undefined ? input : { ...input, maxGapMs }) };
    });
    return [
      ...columns.flatMap((c) => c.ctes),
      {
        name: 'per_person_sequenced',
        lines: sequencedPersonsLines(
          'per_person_scored',
          columns.map((c) => ({ column: c.column, holders: `sequence_${c.column}` })),
        ),
      },
    ];
  }

  /** Each (source, normalized user id) of the identities with its person: the least person_id mapped to it. */
  private identityMapCte(): Cte {
    const userKey = normalizedIdSql(this.d, 'user_id');
    const identities = `SELECT source, ${userKey} AS user_key, person_id FROM ${this.request.lake.identities} AS identities`;
    return {
      name: 'identity_map',
      lines: [
        'SELECT source, user_key, min(person_id) AS person_id',
        `FROM (${identities}) AS i`,
        `WHERE ${nonEmpty('person_id')} AND ${nonEmpty('user_key')} AND source IS NOT NULL`,
        'GROUP BY source, user_key',
      ],
    };
  }

  /** Valid behaviour events (`behaviour_valid`) with one copy per event_id (`behaviour_deduped`; see Dialect.deduplication). */
  private behaviourCtes(scan: BehaviourScan): Cte[] {
    const valid = this.validEventsCte('behaviour_valid', ['properties', 'value'], scan.partitions, scan.from);
    if (this.d.deduplication === 'window') return [valid, { name: 'behaviour_deduped', lines: firstCopies('') }];
    // Every repeated event_id repeats its hash; a hash may repeat without its event_id repeating
    // (a collision), which only sends a few more rows through the exact window.
    const repeated = '(SELECT id_hash FROM repeated_event_ids)';
    const columns = BEHAVIOUR_COLUMNS.join(', ');
    const singles = `SELECT ${columns} FROM behaviour_valid WHERE ${this.d.hash('behaviour_valid.event_id')} NOT IN ${repeated}`;
    return [
      // Read twice (DuckDB's de-duplication): scanning again costs less than keeping every row in memory.
      { ...valid, inline: true },
      this.repeatedEventIdsCte(scan.partitions),
      {
        name: 'behaviour_deduped',
        lines: [singles, 'UNION ALL', ...firstCopies(` WHERE ${this.d.hash('v.event_id')} IN ${repeated}`)],
      },
    ];
  }

  /** The hashes of the event_ids that occur more than once in the partitions (valid or not). */
  private repeatedEventIdsCte(partitions: Partitions): Cte {
    const key = this.d.hash('event_id');
    return {
      name: 'repeated_event_ids',
      lines: [
        `SELECT ${key} AS id_hash`,
        `FROM ${this.request.lake.events} AS lake_events`,
        `WHERE ${partitionFilter(partitions)}`,
        `GROUP BY ${key}`,
        'HAVING count(*) > 1',
      ],
    };
  }

  /** Valid events (SPEC section 1) before T (and from `from`), with the person's normalized id as user_key. */
  private validEventsCte(name: string, extra: readonly string[], partitions: Partitions, from?: number): Cte {
    const scan = { events: this.request.lake.events, partitions: partitionFilter(partitions), extra, from, to: this.asOf };
    return { name, lines: validEventLines(this.d, scan) };
  }

  /** The events with their person, and every property read extracted from the JSON once per row. */
  private eventsCte(): Cte {
    const extracted = this.d.extractProperties('e.properties', [...this.properties.keys()], this.extractionGuard());
    return {
      name: 'events',
      lines: [
        `SELECT ${PERSON_OF_EVENT} AS person_id, e.event_id, e.source, e.event_name, e.ts, e.value${moreItems(extracted)}`,
        'FROM behaviour_deduped AS e',
        IDENTITY_JOIN,
      ],
    };
  }

  /** Each property's JSON value, `p<i>_j`. */
  private typedEventsCte(): Cte {
    const json = this.propertyIndexes().map((i) => propertyJsonItem(this.d, i));
    const columns = `person_id, event_id, source, event_name, ts, value${moreItems(json)}`;
    return { name: 'typed_events', lines: [`SELECT ${columns}`, 'FROM events'] };
  }

  /** Each property's text, `p<i>_t`, and whether it is present, `p<i>_x`. */
  private valuedEventsCte(): Cte {
    const items = this.propertyIndexes().flatMap((i) => propertyValueItems(this.d, i));
    return addedColumns('valued_events', 'typed_events', items);
  }

  /** Each property's number, `p<i>_n`. */
  private scoredEventsCte(): Cte {
    return addedColumns(
      'scored_events',
      'valued_events',
      this.propertyIndexes().map((i) => propertyNumberItem(this.d, i)),
    );
  }

  /** Everyone with a valid event before T in all history, from a second, narrow scan (the behaviour scan is pruned). */
  private populationCtes(to: string): Cte[] {
    return [
      this.validEventsCte('population_valid', [], { to }),
      { name: 'population', lines: [`SELECT DISTINCT ${PERSON_OF_EVENT} AS person_id`, 'FROM population_valid AS e', IDENTITY_JOIN] },
    ];
  }

  /** One row per person with every aggregate; over the population, when there is one, so people without scanned events stay. */
  private perPersonCte(population: boolean): Cte {
    const aggregates = [...this.aggregates].map(([sql, alias]) => `${sql} AS ${alias}`);
    const lines = population
      ? [
          ...selectList('p.person_id', aggregates),
          'FROM population AS p',
          'LEFT JOIN scored_events AS e ON e.person_id = p.person_id',
          'GROUP BY p.person_id',
        ]
      : [...selectList('person_id', aggregates), 'FROM scored_events AS e', 'GROUP BY person_id'];
    return { name: 'per_person', lines };
  }

  /** Each latest value's text, `<alias>_t`, and whether it is present, `<alias>_x`. */
  private perPersonValuedCte(): Cte {
    const items = [...this.latestValues].flatMap((alias) => [
      `${this.d.scalarText(alias)} AS ${alias}_t`,
      `${alias} IS NOT NULL AS ${alias}_x`,
    ]);
    return addedColumns('per_person_valued', 'per_person', items);
  }

  /** Each latest value's number, `<alias>_n`. */
  private perPersonScoredCte(): Cte {
    return addedColumns(
      'per_person_scored',
      'per_person_valued',
      [...this.latestValues].map((alias) => `${numberOfTextSql(this.d, `${alias}_t`)} AS ${alias}_n`),
    );
  }

  /** The index of every property read, in the order of `properties`. */
  private propertyIndexes(): number[] {
    return [...this.properties.values()];
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

  private leaf(leaf: MeasureLeaf): string {
    switch (leaf.kind) {
      case 'event':
        return this.eventLeaf(leaf);
      case 'latest':
      case 'earliest':
        return this.valueLeaf(leaf);
      case 'velocity':
        return this.velocityLeaf(leaf);
      case 'sequence':
        return this.sequenceLeaf(leaf);
      case 'periods':
        return this.periodsLeaf(leaf);
      case 'list':
        return this.lists.column(leaf.name);
    }
  }

  /** The sequence's column: true for the people with events matching its steps in order (sequence-sql.ts). */
  private sequenceLeaf(leaf: Sequence): string {
    const steps = stepFilters(leaf).map((filter) => this.match(filter));
    const key = JSON.stringify([steps, leaf.maxGap?.ms ?? null]);
    let known = this.sequences.get(key);
    if (!known) {
      known = { column: `sq${this.sequences.size}`, steps, ...(leaf.maxGap ? { maxGapMs: leaf.maxGap.ms } : {}) };
      this.sequences.set(key, known);
    }
    return known.column;
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

  /** `latest` (greatest ts, event_id) or `earliest` (least): the property's JSON on that event, then the operators per person. */
  private valueLeaf(leaf: Extract<Condition, { kind: 'latest' | 'earliest' }>): string {
    const match = this.match(leaf.filter);
    this.readsProperties(leaf.filter);
    const index = this.propertyIndex(leaf.property);
    const value = this.property(leaf.property);
    const by = leaf.kind === 'latest' ? this.d.latestBy : this.d.earliestBy;
    const aggregate = `${by(`e.p${index}_j`, 'e.ts', 'e.event_id')} FILTER (WHERE ${conjunction([match, value.present])})`;
    const alias = this.aggregate(aggregate);
    this.latestValues.add(alias);
    return propertyPredicate({ text: `${alias}_t`, number: `${alias}_n`, present: `${alias}_x` }, leaf.ops, this.asOfInstant());
  }

  private asOfInstant() {
    return { dialect: this.d, instant: this.asOf };
  }

  private velocityLeaf(leaf: Extract<Condition, { kind: 'velocity' }>): string {
    const T = this.asOf;
    const [currentFrom, previousFrom] = [instantBefore(T, leaf.window), instantBefore(T, leaf.window, 2)];
    this.needFrom(previousFrom);
    const match = this.match(leaf.filter, false);
    const current = this.aggregate(countIf(this.inRange(match, currentFrom, T)));
    const previous = this.aggregate(countIf(this.inRange(match, previousFrom, currentFrom)));
    // With an empty previous window the value is +infinity (current > 0) or absent (both 0).
    const infinite = boundsHoldForInfinity(leaf.bounds) ? ` WHEN ${current} > 0 THEN TRUE` : '';
    const ratio = boundsPredicate(`CAST(${current} AS DOUBLE) / ${previous}`, leaf.bounds);
    return `(CASE WHEN ${previous} > 0 THEN ${ratio}${infinite} ELSE FALSE END)`;
  }

  /** Issue 16 periods: one conditional count per period, then how many periods satisfy the bounds. */
  private periodsLeaf(leaf: Extract<Condition, { kind: 'periods' }>): string {
    const ranges = periodRanges(leaf.periods, this.asOf);
    this.needFrom(Math.min(...ranges.map((r) => r.from)));
    const match = this.match(leaf.filter, false);
    const counts = ranges.map((r) => this.aggregate(countIf(this.inRange(match, r.from, r.to))));
    return periodsPredicate(counts, leaf.bounds, leaf.periods);
  }

  /** A match restricted to `[from, to)`. */
  private inRange(match: string, from: number, to: number): string {
    return conjunction([match, `e.ts >= ${this.d.timestamp(from)}`, `e.ts < ${this.d.timestamp(to)}`]);
  }

  /** Whether an event matches a filter; also widens the scan to the filter's window (unless the caller has its own). */
  private match(filter: EventFilter, widenScan = true): string {
    const scope = scopeOf(filter, this.asOf);
    // The scan reaches back to the earliest instant the scope admits (none: all history).
    if (widenScan) {
      if (scope.from === undefined) this.earliest = null;
      else this.needFrom(scope.from);
    }
    const parts = scopeParts(scope, this.d);
    if (filter.where.length > 0) this.readsProperties(filter);
    for (const { property, ops } of filter.where) parts.push(propertyPredicate(this.property(property), ops, this.asOfInstant()));
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
    return aggregateAlias(this.aggregates, sql);
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
function partitionFilter(partitions: Partitions): string {
  return [partitions.from ? `dt >= ${stringLiteral(partitions.from)}` : undefined, `dt <= ${stringLiteral(partitions.to)}`]
    .filter(Boolean)
    .join(' AND ');
}

/** A CTE as the query writes it: `name AS (`, its body indented, `)`. */
function cteText(cte: Cte): string {
  const body = cte.lines.map((line) => `  ${line}`).join('\n');
  return `${cte.name} AS ${cte.inline ? 'NOT MATERIALIZED ' : ''}(\n${body}\n)`;
}

/** A CTE of every column of `from` and the `items` after them. */
function addedColumns(name: string, from: string, items: readonly string[]): Cte {
  return { name, lines: [`SELECT *${moreItems(items)}`, `FROM ${from}`] };
}

/** The first copy (by COPY_ORDER) of each event_id among the `behaviour_valid` rows `where` keeps. */
function firstCopies(where: string): string[] {
  return [
    `SELECT ${BEHAVIOUR_COLUMNS.join(', ')} FROM (`,
    `  SELECT v.*, row_number() OVER (PARTITION BY event_id ORDER BY ${COPY_ORDER.join(', ')}) AS copy_no`,
    `  FROM behaviour_valid AS v${where}`,
    ') AS numbered_copies',
    'WHERE copy_no = 1',
  ];
}

/** `SELECT first,` then one item a line, indented under it. */
function selectList(first: string, items: readonly string[]): string[] {
  return [first, ...items].map((item, i, all) => `${i === 0 ? 'SELECT ' : '  '}${item}${i < all.length - 1 ? ',' : ''}`);
}
