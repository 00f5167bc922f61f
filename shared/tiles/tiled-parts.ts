import { COPY_ORDER } from '../compiler/compile-refresh.ts';
import type { AsOfInstant } from '../compiler/date-predicates.ts';
import type { Dialect } from '../compiler/dialect.ts';
import { anyScopeSql, scopeParts } from '../compiler/event-scope.ts';
import { moreItems, propertyJsonItem, propertyNumberItem, propertyValueItems, validEventLines } from '../compiler/event-rows.ts';
import { partitionDate } from '../compiler/partition-date.ts';
import { conjunction, disjunction, type PropertyValue, propertyPredicate } from '../compiler/predicates.ts';
import { integerLiteral, stringLiteral } from '../compiler/sql-text.ts';
import { DAY_MS, dayOf } from './day-split.ts';
import type { InstantRange, TileMeasure } from './measures.ts';
import { PRESENCE, propertyNames, typedNull } from './tile-sql.ts';
import type { TileRelations } from './tile-store.ts';
import type { PlannedUse, TiledPlan } from './tiled-plan.ts';
import { sequenceParts } from './tiled-sequences.ts';
import { carriedColumn, carryKey, numberedUseList } from './carry-sql.ts';

/** Where the tiled query reads: the lake's events and the relations over the stored tiles. */
export interface PartsSources extends TileRelations {
  readonly dialect: Dialect;
  readonly events: string;
}

/**
 * The columns of a part, one row of a use's partial aggregate for one identity key: a tile row
 * of a whole day, or one raw event (of a partial day, a contested copy, or a raw window).
 */
export const PART_COLUMNS = [
  'use_no',
  'measure',
  'source',
  'user_key',
  'n',
  'total',
  'value',
  'latest_ts',
  'latest_event_id',
  'latest_json',
];
/** With `exactness`, also what decides whether a sum is exact. */
const EXACTNESS_COLUMNS = ['abs_total', 'integral'];

/** The relation of the raw rows' parts when some count uses are carried: their counts are added up over it alone. */
export const RAW_PARTS = 'raw_parts';

/** The use number of the population's rows. */
export const PRESENCE_NO = -1;

const instantWithin = (d: Dialect, column: string, range: InstantRange) =>
  conjunction([...(range.from === undefined ? [] : [`${column} >= ${d.timestamp(range.from)}`]), `${column} < ${d.timestamp(range.to)}`]);

/** The `dt` condition of ranges (one day of slack each side). */
function partitionsOf(ranges: readonly InstantRange[]): string {
  return disjunction(
    ranges.map((r) =>
      conjunction([
        ...(r.from === undefined ? [] : [`dt >= ${stringLiteral(partitionDate(r.from - DAY_MS))}`]),
        `dt <= ${stringLiteral(partitionDate(r.to - 1 + DAY_MS))}`,
      ]),
    ),
  );
}

/** How a use's tile rows are added up per identity key: by the kind of its measure's aggregate (presence counts). */
const TILE_KINDS = ['count', 'sum', 'distinct', 'latest'] as const;
type TileKind = (typeof TILE_KINDS)[number];

/** A use's rows of tiles: which measure, whole days `[first_day, end_day)`, and how they add up. */
export function tileUses(
  plan: TiledPlan,
  presence: boolean,
): { no: number; measure: string; first: string; end: string; kind: TileKind }[] {
  const rows = plan.uses.flatMap((use) => {
    const whole = use.split.wholeDays;
    if (use.raw || !whole) return [];
    const first = whole.from === undefined ? '0000-01-01' : dayOf(whole.from);
    const kind = use.measure.aggregate.kind;
    if (kind === 'earliest') throw new Error(`measure ${use.measure.id} (earliest) is read raw, never from tiles`);
    return [{ no: use.no, measure: use.measure.id, first, end: dayOf(whole.to), kind }];
  });
  if (presence) rows.push({ no: PRESENCE_NO, measure: PRESENCE, first: '0000-01-01', end: dayOf(plan.todayStart), kind: 'count' });
  return rows;
}

/**
 * The count uses read from the carried partials (`carried`, one column per use of `carriedKeys`):
 * their use number and carried column. Empty without carried partials.
 */
export function carriedColumns(plan: TiledPlan, src: Pick<PartsSources, 'carried' | 'carriedKeys'>): Map<number, string> {
  const columns = new Map<number, string>();
  if (src.carried === undefined) return columns;
  const keys = src.carriedKeys ?? [];
  for (const t of tileUses(plan, false)) {
    const index = keys.indexOf(carryKey(t));
    if (t.kind === 'count' && index >= 0) columns.set(t.no, carriedColumn(index));
  }
  return columns;
}

/**
 * The all-history `latest` uses read from the carried `latest` rows (`carriedLatest`, a row per use and key, the use
 * being its place in `carriedLatestKeys`): their use number and that place. Empty without carried rows.
 */
export function carriedLatestUses(
  plan: TiledPlan,
  src: Pick<PartsSources, 'carriedLatest' | 'carriedLatestKeys'>,
): Map<number, { index: number; measure: string }> {
  const found = new Map<number, { index: number; measure: string }>();
  if (src.carriedLatest === undefined) return found;
  const keys = src.carriedLatestKeys ?? [];
  for (const t of tileUses(plan, false)) {
    const index = keys.indexOf(carryKey(t));
    if (t.kind === 'latest' && index >= 0) found.set(t.no, { index, measure: t.measure });
  }
  return found;
}

/** The raw rows a use reads and how each becomes a part. */
interface RawUse {
  readonly no: number;
  readonly measure: string;
  /** Which raw rows (`e`) belong to the use. */
  readonly condition: string;
  readonly total?: string;
  readonly value?: string;
  readonly json?: string;
  /** Also reads the rows outside the edge days (a measure read raw over its window). */
  readonly bulk?: boolean;
}

/** A latest use's tile columns as they are, for the per-person step to pick from (DuckDB, see partsCtes). */
const LATEST_AS_THEY_ARE = { latest_ts: 't.latest_ts', latest_event_id: 't.latest_event_id', latest_json: 't.latest_json' };

/** What {@link partsCtes} adds to the parts and how it reads the tiles. */
export interface PartsOptions {
  /** Also the population's rows (presence). */
  readonly presence: boolean;
  /** Also the {@link EXACTNESS_COLUMNS}. */
  readonly exactness: boolean;
  /**
   * DuckDB: each measure's tile rows read by a scan of their own, filtered by `measure =` and the days of its uses,
   * instead of one scan filtered by `measure IN (...)`, which DuckDB uses only to skip row groups by their min and
   * max (every row of a row group the list touches is read and filtered after). For a query that reads few of the
   * measures and little else (the bounds query: 7.5M tile rows read to keep 417k on the 10M bench lake). Athena bills
   * each read of the tiles: there they are read once whatever this says.
   */
  readonly scanPerMeasure?: boolean;
}

/**
 * The relations of the parts, as CTEs, and the name of the last one (`parts`): tile rows joined to
 * a small list of the uses' day ranges (one read of the tiles), and raw events read once (one
 * scan of the edge days, de-duplicated as the full computation does, properties extracted once)
 * joined to the list of uses with each use's rows picked by its instants and scope.
 */
export function partsCtes(src: PartsSources, plan: TiledPlan, options: PartsOptions): string[] {
  const d = src.dialect;
  // Every use reads raw rows: its contested copies at least.
  const rawUses = plan.uses;
  const names = propertyNames(rawUses.map((u) => u.measure));
  const p = (name: string) => names.indexOf(name);
  const value = (name: string): PropertyValue => ({ text: `e.p${p(name)}_t`, number: `e.p${p(name)}_n`, present: `e.p${p(name)}_x` });
  const nul = typedNull(d);
  const ctes: string[] = [];

  // 1. Raw events: the lake's uncontested rows of the raw ranges, and the contested copies.
  // The lake's rows are read again by DuckDB's de-duplication (see numberedCtes): scanning again
  // costs less than keeping every row. The raw rows are kept once (MATERIALIZED) when they are few:
  // edge days only, or the bulk narrowed to the raw measures' events.
  const inline = d.deduplication === 'candidates' ? 'NOT MATERIALIZED ' : '';
  let kept = d.deduplication === 'candidates' ? 'MATERIALIZED ' : '';
  const inScanItem = plan.scanStart === undefined ? '' : `, ts >= ${d.timestamp(plan.scanStart)} AS in_scan`;
  const branches: string[] = [];
  if (plan.rawRanges.length > 0) {
    const bounded = plan.rawRanges.every((r) => r.from !== undefined);
    const lake = validEventLines(d, {
      events: src.events,
      partitions: partitionsOf(plan.rawRanges),
      extra: ['properties', 'value'],
      ...(bounded ? { from: Math.min(...plan.rawRanges.map((r) => r.from as number)) } : {}),
      to: plan.asOf,
    }).join('\n');
    // Rows outside the edge days are read only by the measures read raw over their window.
    const bulk = plan.rawRanges.length !== plan.edgeRanges.length || plan.rawRanges.some((r, i) => !sameRange(r, plan.edgeRanges[i]));
    const cls = bulk
      ? `CASE WHEN ${disjunction(plan.edgeRanges.map((r) => instantWithin(d, 'v.ts', r)))} THEN 'edge' ELSE 'bulk' END`
      : "'edge'";
    ctes.push(
      `raw_lake AS ${inline}(\nSELECT v.*, FALSE AS contested${inScanItem}, ${cls} AS cls FROM (\n${lake}\n) AS v\nWHERE ${disjunction(plan.rawRanges.map((r) => instantWithin(d, 'v.ts', r)))}` +
        ` AND v.event_id NOT IN (SELECT event_id FROM ${src.contestedIds})\n)`,
    );
    // DuckDB: outside the edge days only the raw measures' events are used (bulkFilter). An uncontested id
    // has every copy on one UTC day, so its copies are all edge or all bulk: a bulk id keeps all its
    // copies (de-duplication then picks among the same copies) when one of them is in a raw
    // measure's scope, and none otherwise, before de-duplication rather than after it. Athena bills
    // the bytes each read of the lake scans: there the lake is read once and narrowed after.
    const scope = bulk && d.name === 'duckdb' ? rawScope(d, plan) : 'TRUE';
    if (bulk && scope === 'TRUE') kept = inline;
    branches.push(
      scope === 'TRUE'
        ? 'SELECT * FROM raw_lake'
        : `SELECT e.* FROM raw_lake AS e WHERE e.cls = 'edge' OR ${scope}\nUNION ALL\n` +
            `SELECT e.* FROM (SELECT DISTINCT e.event_id FROM raw_lake AS e WHERE e.cls = 'bulk' AND ${scope}) AS scoped\n` +
            `JOIN raw_lake AS e ON e.event_id = scoped.event_id WHERE NOT (e.cls = 'edge' OR ${scope})`,
    );
  }
  const contested = validEventLines(d, {
    events: src.contestedEvents,
    partitions: partitionsOf([plan.contestedRange]),
    extra: ['properties', 'value'],
    ...(plan.contestedRange.from === undefined ? {} : { from: plan.contestedRange.from }),
    to: plan.asOf,
  }).join('\n');
  branches.push(
    `SELECT c.*, TRUE AS contested${inScanItem}, 'edge' AS cls FROM (\n${contested}\n) AS c\nWHERE c.event_id IN (SELECT event_id FROM ${src.contestedIds})`,
  );
  ctes.push(`raw_valid AS ${kept}(\n${branches.join('\nUNION ALL\n')}\n)`);
  // One copy per event_id among those inside the scan, as the full computation keeps it; copies
  // before the scan (T's day read for the population) are numbered apart and count for no use.
  ctes.push(...numberedCtes(d, plan));
  ctes.push(
    `raw_extracted AS (\n  SELECT source, user_key, event_id, event_name, ts, value, contested, cls, copy_no${moreItems(
      d.extractProperties(
        'e.properties',
        names,
        extractionGuard(
          d,
          rawUses.map((u) => u.measure),
        ),
      ),
    )}\n  FROM raw_numbered AS e${bulkFilter(d, plan)}\n)`,
    `raw_typed AS (\n  SELECT source, user_key, event_id, event_name, ts, value, contested, cls, copy_no${moreItems(names.map((_, i) => propertyJsonItem(d, i)))}\n  FROM raw_extracted\n)`,
    `raw_valued AS (\n  SELECT *${moreItems(names.flatMap((_, i) => propertyValueItems(d, i)))}\n  FROM raw_typed\n)`,
    `raw_scored AS (\n  SELECT *${moreItems(names.map((_, i) => propertyNumberItem(d, i)))}\n  FROM raw_valued\n)`,
  );

  // 2. Which raw rows each use reads.
  const raws: RawUse[] = [];
  if (options.presence && plan.presenceToday) {
    raws.push({ no: PRESENCE_NO, measure: PRESENCE, condition: `e.ts >= ${d.timestamp(plan.todayStart)}` });
  }
  const json = (name: string) => `e.p${p(name)}_j`;
  const reading = { dialect: d, instant: plan.asOf };
  // A sequence's steps are read by the sequence (4.), not added up as parts of their own.
  for (const use of rawUses) if (!use.step) raws.push(rawUse(reading, use, value, json));

  // 3. The parts: tile rows of whole days, then raw rows.
  const carriedNos = carriedColumns(plan, src);
  const latestNos = carriedLatestUses(plan, src);
  const allTiles = tileUses(plan, options.presence && src.population === undefined);
  const tiles = allTiles.filter((t) => !carriedNos.has(t.no) && !latestNos.has(t.no));
  const exact = options.exactness ? EXACTNESS_COLUMNS : [];
  const selects: string[] = [];
  // The days of a use are added up per identity key first (a distinct value stays a row of its
  // own): the per-person aggregation then reads a row per key, not per key and day.
  const latest = (column: string) =>
    `${d.latestBy(`t.${column}`, 't.latest_ts', 't.latest_event_id')} FILTER (WHERE t.latest_ts IS NOT NULL)`;
  const added: Record<TileKind, Partial<Record<string, string>>> = {
    count: { n: 'sum(t.n)' },
    sum: { n: 'sum(t.n)', total: 'sum(t.total)', abs_total: 'sum(t.abs_total)', integral: 'bool_and(t.integral)' },
    distinct: { value: 't.value' },
    latest: { latest_ts: latest('latest_ts'), latest_event_id: latest('latest_event_id'), latest_json: latest('latest_json') },
  };
  const none = noneOf(d);
  // DuckDB: one GROUP BY per kind of aggregate, each reading only the tile columns it adds up
  // (reading the local files again costs less than one GROUP BY carrying every kind's aggregates).
  // Athena bills the bytes each read scans: there the tiles are read once, by one GROUP BY.
  const groups: TileKind[][] = d.name === 'duckdb' ? TILE_KINDS.map((kind) => [kind]) : [[...TILE_KINDS]];
  for (const kinds of groups) {
    const uses = tiles.filter((t) => kinds.includes(t.kind));
    if (uses.length === 0) continue;
    const list = numberedUseList(uses);
    // DuckDB: the latest tile rows go to the per-person step as they are (a key's days are not first reduced to
    // one row): the per-person step takes the latest by the same (ts, event_id) order, so the winner is the same,
    // and grouping them per key first cost more than the extra rows it spared (all-history uses: 680k rows into
    // 455k keys on the 10M bench lake, about 2 s CPU of the grouping's arg_max states).
    const asTheyAre = d.name === 'duckdb' && kinds.length === 1 && kinds[0] === 'latest';
    const items: Record<string, string> = {
      use_no: 'tile_uses.use_no',
      measure: asTheyAre ? 't.measure' : 'min(t.measure)',
      source: 't.source',
      user_key: 't.user_key',
    };
    const sums = (asTheyAre ? LATEST_AS_THEY_ARE : Object.assign({}, ...kinds.map((kind) => added[kind]))) as Record<
      string,
      string | undefined
    >;
    const columns = [...PART_COLUMNS, ...exact].map((c) => `${items[c] ?? sums[c] ?? none[c]} AS ${c}`);
    const perMeasure = d.name === 'duckdb' && options.scanPerMeasure === true;
    const measures = [...new Set(uses.map((t) => stringLiteral(t.measure)))].join(', ');
    const filters = [...(perMeasure ? [] : [`t.measure IN (${measures})`]), ...(asTheyAre ? ['t.latest_ts IS NOT NULL'] : [])];
    selects.push(
      `SELECT ${columns.join(', ')}\nFROM ${perMeasure ? measureScans(src.tiles, uses) : src.tiles} AS t\n` +
        `JOIN (VALUES ${list}) AS tile_uses (use_no, measure, first_day, end_day)\n  ON t.measure = tile_uses.measure AND t.day >= tile_uses.first_day AND t.day < tile_uses.end_day` +
        (filters.length === 0 ? '' : `\nWHERE ${filters.join(' AND ')}`) +
        (asTheyAre ? '' : `\nGROUP BY tile_uses.use_no, t.source, t.user_key${kinds.includes('distinct') ? ', t.value' : ''}`),
    );
  }
  // The carried all-history latest uses: their carried row per key, as a tile row of theirs would be (the per-person
  // step takes the latest of a person's rows, T's raw rows and contested copies among them).
  if (latestNos.size > 0) {
    const list = [...latestNos].map(([no, u]) => `(${integerLiteral(no)}, ${stringLiteral(u.measure)}, ${integerLiteral(u.index)})`);
    const items: Record<string, string> = {
      ...none,
      use_no: 'latest_uses.use_no',
      measure: 'latest_uses.measure',
      source: 'c.source',
      user_key: 'c.user_key',
      latest_ts: 'c.latest_ts',
      latest_event_id: 'c.latest_event_id',
      latest_json: 'c.latest_json',
    };
    selects.push(
      `SELECT ${[...PART_COLUMNS, ...exact].map((c) => `${items[c]} AS ${c}`).join(', ')}\n` +
        `FROM ${src.carriedLatest as string} AS c\nJOIN (VALUES ${list.join(', ')}) AS latest_uses (use_no, measure, use_index) ON c.use_index = latest_uses.use_index`,
    );
  }
  // The carried uses' counts are added per person beside the parts (tiled-selects.ts); a row per carried key
  // here, counting for no use, gives each of their persons a row as their tile rows did.
  if (carriedNos.size > 0) {
    const items: Record<string, string> = {
      ...none,
      use_no: 'CAST(NULL AS INTEGER)',
      measure: nul.text,
      source: 'c.source',
      user_key: 'c.user_key',
    };
    selects.push(`SELECT ${[...PART_COLUMNS, ...exact].map((c) => `${items[c]} AS ${c}`).join(', ')}\nFROM ${src.carried as string} AS c`);
  }
  if (options.presence && src.population !== undefined) selects.push(populationSelect(d, src.population, plan, exact));
  let rawSelect: string | undefined;
  if (raws.length > 0) {
    const list = raws
      .flatMap((r) =>
        (r.bulk ? ['edge', 'bulk'] : ['edge']).map((c) => `(${stringLiteral(c)}, ${integerLiteral(r.no)}, ${stringLiteral(r.measure)})`),
      )
      .join(', ');
    const pick = (column: (r: RawUse) => string | undefined, none: string) => {
      const whens = raws.flatMap((r) => {
        const sql = column(r);
        return sql === undefined ? [] : [`WHEN ${integerLiteral(r.no)} THEN ${sql}`];
      });
      return whens.length === 0 ? none : `CASE raw_uses.use_no ${whens.join(' ')} END`;
    };
    const total = pick((r) => r.total, nul.total);
    const items = [
      'raw_uses.use_no',
      'raw_uses.measure',
      'e.source',
      'e.user_key',
      `CAST(1 AS BIGINT) AS n`,
      `${total} AS total`,
      `${pick((r) => r.value, nul.text)} AS value`,
      'e.ts AS latest_ts',
      'e.event_id AS latest_event_id',
      `${pick((r) => r.json, nul.text)} AS latest_json`,
      ...(options.exactness ? [`abs(${total}) AS abs_total`, `${total} = floor(${total}) AS integral`] : []),
    ];
    const which = `CASE raw_uses.use_no ${raws.map((r) => `WHEN ${integerLiteral(r.no)} THEN ${r.condition}`).join(' ')} ELSE FALSE END`;
    rawSelect = `SELECT ${items.join(', ')}\nFROM raw_scored AS e\nJOIN (VALUES ${list}) AS raw_uses (cls, use_no, measure) ON raw_uses.cls = e.cls\nWHERE ${which}`;
  }
  if (carriedNos.size > 0) {
    // The carried uses' other parts are raw rows only: kept apart (once), their counts are added up over them alone.
    ctes.push(`${RAW_PARTS} AS ${d.name === 'duckdb' ? 'MATERIALIZED ' : ''}(\n${rawSelect ?? emptyParts(d, options.exactness)}\n)`);
    selects.push(`SELECT * FROM ${RAW_PARTS}`);
  } else if (rawSelect !== undefined) {
    selects.push(rawSelect);
  }
  // 4. Sequences: their holders, from their steps' raw rows.
  const sequences = sequenceParts(plan, (use) => rawUse(reading, use, value, json).condition, [...PART_COLUMNS, ...exact], {
    ...none,
    source: nul.text,
  });
  ctes.push(...sequences.ctes.map((cte) => `${cte.name} AS (\n${cte.lines.map((line) => `  ${line}`).join('\n')}\n)`));
  selects.push(...sequences.selects);
  if (selects.length === 0) selects.push(emptyParts(d, options.exactness));
  ctes.push(`parts AS (\n${selects.join('\nUNION ALL\n')}\n)`);
  return ctes;
}

/** The tile rows of `uses`, one scan per measure: its rows (`measure =`) of the days from its uses' first to their last end. */
function measureScans(tiles: string, uses: readonly { measure: string; first: string; end: string }[]): string {
  const scans = [...new Set(uses.map((u) => u.measure))].map((measure) => {
    const mine = uses.filter((u) => u.measure === measure);
    const first = mine.map((u) => u.first).sort()[0] as string;
    const end = mine.map((u) => u.end).sort()[mine.length - 1] as string;
    return `  SELECT * FROM ${tiles} AS m WHERE m.measure = ${stringLiteral(measure)} AND m.day >= ${stringLiteral(first)} AND m.day < ${stringLiteral(end)}`;
  });
  return `(\n${scans.join('\n  UNION ALL\n')}\n)`;
}

/** No part: the part columns, typed, and no row. */
function emptyParts(d: Dialect, exactness: boolean): string {
  const nul = typedNull(d);
  const none = PART_COLUMNS.map(
    (c) =>
      `${c === 'use_no' ? 'CAST(NULL AS INTEGER)' : c === 'n' ? nul.n : c === 'total' ? nul.total : c === 'latest_ts' ? nul.instant : nul.text} AS ${c}`,
  );
  const extra = exactness ? [`${nul.total} AS abs_total`, `${nul.integral} AS integral`] : [];
  return `SELECT ${[...none, ...extra].join(', ')} WHERE FALSE`;
}

/** Typed NULLs of the part columns that are not keys. */
function noneOf(d: Dialect): Record<string, string> {
  const nul = typedNull(d);
  return {
    n: nul.n,
    total: nul.total,
    value: nul.text,
    latest_ts: nul.instant,
    latest_event_id: nul.text,
    latest_json: nul.text,
    abs_total: nul.total,
    integral: nul.integral,
  };
}

/** The population's part from the population index: one row per key seen on a day before T's (as the presence rows of those days add up). */
function populationSelect(d: Dialect, population: string, plan: TiledPlan, exact: readonly string[]): string {
  const items: Record<string, string> = {
    ...noneOf(d),
    use_no: integerLiteral(PRESENCE_NO),
    measure: stringLiteral(PRESENCE),
    source: 'k.source',
    user_key: 'k.user_key',
    n: 'CAST(1 AS BIGINT)',
  };
  const columns = [...PART_COLUMNS, ...exact].map((c) => `${items[c]} AS ${c}`);
  return `SELECT ${columns.join(', ')}\nFROM ${population} AS k\nWHERE k.first_day < ${stringLiteral(dayOf(plan.todayStart))}`;
}

/** The raw rows of one use: de-duplicated copies in its partial days (contested copies: its whole window), in its scope. */
function rawUse(asOf: AsOfInstant, use: PlannedUse, value: (name: string) => PropertyValue, json: (name: string) => string): RawUse {
  const d = asOf.dialect;
  const { measure, range } = use;
  const inRange = instantWithin(d, 'e.ts', range);
  const when = use.raw
    ? inRange
    : disjunction([
        `(e.contested AND ${inRange})`,
        ...(use.split.segments.length === 0
          ? []
          : [`(NOT e.contested AND ${disjunction(use.split.segments.map((s) => instantWithin(d, 'e.ts', s)))})`]),
      ]);
  const scope = scopeParts(measure.scope, d);
  for (const { property, ops } of measure.scope.where) scope.push(propertyPredicate(value(property), ops, asOf));
  const a = measure.aggregate;
  const base = { no: use.no, measure: measure.id, bulk: use.raw };
  const condition = (extra: string[]) => conjunction(['e.copy_no = 1', when, ...scope, ...extra]);
  switch (a.kind) {
    case 'count':
      return { ...base, condition: condition([]) };
    case 'sum': {
      const x = a.of === undefined ? 'e.value' : value(a.of).number;
      return { ...base, condition: condition([`${x} IS NOT NULL`]), total: x };
    }
    case 'distinct': {
      const text = value(a.of).text;
      return { ...base, condition: condition([`${text} IS NOT NULL`]), value: text };
    }
    case 'latest':
    case 'earliest':
      return { ...base, condition: condition([value(a.of).present]), json: json(a.of) };
  }
}

const sameRange = (a: InstantRange, b: InstantRange | undefined) => b !== undefined && a.from === b.from && a.to === b.to;

/** Properties are extracted only for the rows some measure reads them of (by event names and sources). */
export function extractionGuard(d: Dialect, measures: readonly TileMeasure[]): string | undefined {
  const scopes = measures
    .filter((m) => m.scope.where.length > 0 || ('of' in m.aggregate && m.aggregate.of !== undefined))
    .map((m) => ({ events: m.scope.events, ...(m.scope.sources ? { sources: m.scope.sources } : {}) }));
  const guard = anyScopeSql(scopes, d);
  return guard === 'TRUE' ? undefined : guard;
}

/**
 * `raw_numbered`: the first copy of each event_id (COPY_ORDER) among the raw rows inside the
 * scan, and every row of T's day for the population. With the `candidates` de-duplication
 * (DuckDB) only the rows whose id hash repeats go through the window, as in the full query.
 */
function numberedCtes(d: Dialect, plan: TiledPlan): string[] {
  const inScan = plan.scanStart === undefined ? '' : ', in_scan';
  const today = plan.presenceToday ? ` OR ts >= ${d.timestamp(plan.todayStart)}` : '';
  const window = (where: string) =>
    `  SELECT * FROM (\n    SELECT v.*, row_number() OVER (PARTITION BY event_id${inScan} ORDER BY ${COPY_ORDER.join(', ')}) AS copy_no\n` +
    `    FROM raw_valid AS v${where}\n  ) AS numbered_copies\n  WHERE copy_no = 1${today}`;
  if (d.deduplication === 'window') return [`raw_numbered AS (\n${window('')}\n)`];
  const repeated = '(SELECT id_hash FROM raw_repeated_ids)';
  return [
    `raw_repeated_ids AS (\n  SELECT ${d.hash('event_id')} AS id_hash FROM raw_valid GROUP BY ${d.hash('event_id')} HAVING count(*) > 1\n)`,
    `raw_numbered AS (\n  SELECT v.*, CAST(1 AS BIGINT) AS copy_no FROM raw_valid AS v WHERE ${d.hash('v.event_id')} NOT IN ${repeated}\n  UNION ALL\n` +
      `${window(` WHERE ${d.hash('v.event_id')} IN ${repeated}`)}\n)`,
  ];
}

/** The event names and sources of the measures read raw over their window, as one condition over `e` (TRUE: none or all). */
function rawScope(d: Dialect, plan: TiledPlan): string {
  const raw = plan.uses.filter((u) => u.raw);
  if (raw.length === 0) return 'TRUE';
  const scopes = raw.map((u) => ({
    events: u.measure.scope.events,
    ...(u.measure.scope.sources ? { sources: u.measure.scope.sources } : {}),
  }));
  return anyScopeSql(scopes, d);
}

/** Outside the edge days only the events of the measures read raw over their window are kept (after de-duplication). */
function bulkFilter(d: Dialect, plan: TiledPlan): string {
  const scope = rawScope(d, plan);
  return scope === 'TRUE' ? '' : `\n  WHERE e.cls = 'edge' OR ${scope}`;
}
