import nodeSqlParser from 'node-sql-parser';
import { athenaDialect } from '../../shared/compiler/athena-dialect.ts';
import { type CompiledRefresh, compileRefresh, type LakeRelations } from '../../shared/compiler/compile-refresh.ts';
import type { Dialect } from '../../shared/compiler/dialect.ts';
import { duckdbDialect } from '../../shared/compiler/duckdb-dialect.ts';
import { type MetricSettings, parseConfig } from '../../shared/config/config.ts';
import type { CohortDefinition } from '../../shared/language/ast.ts';
import { buildCatalog } from '../../shared/language/catalog.ts';

/** The as-of instant of every golden query: mid-day, so windows in hours cross midnight. */
export const AS_OF = new Date('2024-06-15T12:00:00.000Z');

/** Fixed lake relations, so golden files do not depend on a folder or a Glue database. */
export const LAKE: LakeRelations = { events: 'cohorts.events', identities: 'cohorts.identities', lists: 'cohorts.lists' };

/** The injection text of SPEC section 4: data, never SQL. */
export const INJECTION = "x'; DROP TABLE events; --";

/**
 * A catalog of cohorts, each given by its `rule` in YAML (the rest of the file is boilerplate),
 * validated by the real parser. Throws with every problem when a definition is invalid.
 */
export function catalog(rules: Readonly<Record<string, string>>): CohortDefinition[] {
  const files = Object.entries(rules).map(([id, rule]) => ({
    path: `definitions/${id}.yaml`,
    text: [
      `id: ${id}`,
      `name: ${id}`,
      'owner: compiler-tests',
      'purpose: Exercises one construct of the definition language in the compiler tests.',
      'cadence: daily',
      'rule:',
      ...rule.split('\n').map((line) => `  ${line}`),
      '',
    ].join('\n'),
  }));
  const built = buildCatalog(files);
  if (built.problems.length > 0) {
    const lines = built.problems.map((p) => `${p.file}:${p.position ? `${p.position.line}:${p.position.col}: ` : ' '}${p.message}`);
    throw new Error(`invalid test definitions:\n${lines.join('\n')}`);
  }
  return [...built.definitions];
}

/** Compiles cohorts at the fixed as-of over the fixed lake relations. */
export function compile(
  cohorts: readonly CohortDefinition[],
  dialect: Dialect,
  lake: LakeRelations = LAKE,
  asOf: Date = AS_OF,
  metrics?: MetricSettings,
): CompiledRefresh {
  return compileRefresh({ cohorts, asOf, lake, dialect, ...(metrics ? { metrics } : {}) });
}

/** One golden query: a catalog that exercises one construct (or a few closely related ones). */
export interface GoldenCase {
  readonly name: string;
  /** What the golden file shows, for the test name. */
  readonly about: string;
  /** Cohort id -> rule (YAML). */
  readonly rules: Readonly<Record<string, string>>;
  /** KPI metrics compiled beside the cohorts; none when absent. */
  readonly metrics?: MetricSettings;
}

/** Every construct of the language (SPEC sections 2 and 4), one golden file each. */
export const GOLDEN_CASES: readonly GoldenCase[] = [
  {
    name: 'event_count_default',
    about: 'an event leaf with the default measure count >= 1 over all history',
    rules: { used_export: 'event: export_created' },
  },
  {
    name: 'event_count_bounds',
    about: 'count with explicit bounds: a range, eq (also eq 0), gt and lte',
    rules: {
      exports_in_range: 'event: export_created\nwithin: 30d\ncount: {gte: 2, lt: 10}',
      exports_exactly_three: 'event: export_created\nwithin: 30d\ncount: {eq: 3}',
      never_exported: 'event: export_created\ncount: {eq: 0}',
      few_exports: 'event: export_created\ncount: {gt: 0, lte: 2}',
    },
  },
  {
    name: 'event_count_shorthand',
    about: 'the shorthand count: 5, meaning gte 5',
    rules: { heavy_exporters: 'event: export_created\nwithin: 30d\ncount: 5' },
  },
  {
    name: 'sum_value',
    about: 'sum of the value column, from one source',
    rules: { big_spenders: 'event: invoice_paid\nsource: billing\nwithin: 52w\nsum: {gte: 1000}' },
  },
  {
    name: 'sum_property',
    about: 'sum of a numeric property with two bounds',
    rules: { many_seats: 'event: seats_changed\nsum: {of: seats, gt: 10, lte: 500}' },
  },
  {
    name: 'distinct_property',
    about: 'distinct text values of a property',
    rules: { feature_explorers: 'event: feature_used\nwithin: 14d\ndistinct: {of: feature, gte: 3}' },
  },
  {
    name: 'window_within',
    about: 'within in hours, days and weeks (every leaf windowed: pruned scan and a population scan)',
    rules: {
      within_hours: 'event: login\nwithin: 12h',
      within_days: 'event: login\nwithin: 30d',
      within_weeks: 'event: login\nwithin: 2w',
    },
  },
  {
    name: 'window_before',
    about: 'before in hours, days and weeks (all history up to T - D)',
    rules: {
      before_hours: 'event: login\nbefore: 36h',
      before_days: 'event: login\nbefore: 30d',
      before_weeks: 'event: login\nbefore: 8w',
    },
  },
  {
    name: 'window_between',
    about: 'between in hours, days and weeks',
    rules: {
      between_hours: 'event: login\nbetween: [48h, 24h]',
      between_days: 'event: login\nbetween: [14d, 7d]',
      between_weeks: 'event: login\nbetween: [4w, 2w]',
    },
  },
  {
    name: 'sources',
    about: 'a single source and a list of sources',
    rules: {
      crm_noted: 'event: note_added\nsource: crm',
      paid_anywhere: 'event: payment_received\nsource: [billing, stripe, crm]',
    },
  },
  {
    name: 'event_list',
    about: 'a list of event names',
    rules: { engaged: 'event: [feature_used, export_created, report_viewed]\nwithin: 7d\ncount: {gte: 3}' },
  },
  {
    name: 'any_event',
    about: 'the "*" event, with and without a source',
    rules: {
      recently_active: 'event: "*"\nwithin: 7d',
      product_regulars: 'event: "*"\nsource: product\ncount: {gte: 10}',
    },
  },
  {
    name: 'where_scalars',
    about: 'where with scalar string, integer, boolean and fractional number',
    rules: { pro_exports: 'event: export_created\nwhere: {plan: pro, seats: 5, trial: true, ratio: 4.5}' },
  },
  {
    name: 'where_operators',
    about: 'every property operator, and several on one property',
    rules: {
      op_eq: 'event: export_created\nwhere: {plan: {eq: team}}',
      op_neq: 'event: export_created\nwhere: {plan: {neq: free}}',
      op_in: 'event: export_created\nwhere: {plan: {in: [pro, 5, true]}}',
      op_not_in: 'event: export_created\nwhere: {plan: {not_in: [free, trial]}}',
      op_gt: 'event: export_created\nwhere: {rows: {gt: 100}}',
      op_gte: 'event: export_created\nwhere: {rows: {gte: 0.5}}',
      op_lt: 'event: export_created\nwhere: {rows: {lt: -3}}',
      op_lte: 'event: export_created\nwhere: {rows: {lte: 1000000}}',
      op_exists: 'event: export_created\nwhere: {format: {exists: true}}',
      op_not_exists: 'event: export_created\nwhere: {format: {exists: false}}',
      op_several: 'event: export_created\nwhere:\n  plan: {in: [pro, team], neq: team_trial}\n  rows: {gte: 5, lt: 100}',
    },
  },
  {
    name: 'property_names',
    about: 'property names with dots and dashes: top-level keys, never paths',
    rules: { utm_google: 'event: signed_up\nwhere: {utm.source: google, x-client-id: {exists: true}, a.b-c_d: {neq: 0}}' },
  },
  {
    name: 'latest',
    about: 'latest with a source, a window, where, and several operators',
    rules: {
      on_enterprise: 'latest: {event: subscription_changed, source: billing, property: plan}\neq: enterprise',
      in_dach:
        'latest: {event: profile_updated, source: [crm, product], property: country, within: 90d, where: {verified: true}}\nin: [DE, AT, CH]',
      seat_band: 'latest: {event: "*", property: seats}\ngte: 5\nlt: 50\nneq: 13',
      never_planned: 'latest: {event: subscription_changed, property: plan}\nexists: false',
    },
  },
  {
    name: 'lang_ops',
    about: 'issue 16: $ property names, string operators, date operators in where and beside latest, and earliest',
    rules: {
      url_pricing: 'event: "$pageview"\nwhere: {$current_url: {contains: "/pricing?x=50%_off"}, $browser: {icontains: "ChRome É"}}',
      ref_edges: 'event: "$pageview"\nwhere: {$referrer: {starts_with: "https://", ends_with: ".dé"}}',
      trial_ending: 'latest: {event: "$identify", property: trial_ends_at}\nwithin_next: 7d',
      signed_up_long_ago: 'event: "$identify"\nwhere: {signup_at: {before: 365d}}',
      first_plan: 'earliest: {event: subscription_changed, property: plan, within: 90d}\neq: pro',
      first_seen_recent: 'earliest: {event: "$identify", property: first_seen}\nwithin: 30d',
    },
  },
  {
    name: 'velocity',
    about: 'velocity whose bounds hold for +infinity (gte) and do not (lte, eq, gt with lt)',
    rules: {
      accelerating: 'velocity: {event: [feature_used, export_created], source: product, window: 14d}\ngte: 2',
      slowing: 'velocity: {event: "*", window: 7d}\nlte: 0.5',
      steady: 'velocity: {event: login, window: 24h, where: {platform: web}}\neq: 1',
      growing_slowly: 'velocity: {event: login, window: 2w}\ngt: 1\nlt: 3',
    },
  },
  {
    name: 'sequence',
    about: 'sequences (issue 16): two steps over all history, three steps with max_gap and a window, beside an event leaf',
    rules: {
      signup_then_upgrade: 'all:\n  - sequence: [{event: signed_up}, {event: upgraded, source: billing}]\n  - {event: login, within: 7d}',
      funnel_in_a_day: [
        'sequence:',
        '  - {event: viewed, where: {path: /pricing}}',
        '  - {event: carted}',
        '  - {event: bought, source: [web, app]}',
        'max_gap: 24h',
        'within: 30d',
      ].join('\n'),
    },
  },
  {
    name: 'calendar_periods',
    about: 'calendar months and years as window literals, a velocity over months, periods of days and of months (issue 16)',
    rules: {
      quarter_active: 'event: login\nwithin: 3months',
      last_month: 'event: login\nbetween: [2months, 1month]',
      year_buyers: 'event: invoice_paid\nwithin: 1y\nsum: {gte: 100}',
      monthly_growth: 'velocity: {event: login, window: 1month}\ngt: 1',
      weekly_regular: 'event: login\nperiods: {every: 7d, count: 3, at_least: 2}',
      monthly_twice:
        'event: login\nsource: product\nwhere: {platform: web}\nperiods: {every: 1month, count: 2, at_least: 1}\ncount: {gte: 2, lte: 5}',
    },
  },
  {
    name: 'combinators',
    about: 'all, any and not nested',
    rules: {
      combined: [
        'all:',
        '  - event: signed_up',
        '    within: 30d',
        '  - any:',
        '      - event: export_created',
        '      - event: report_viewed',
        '        count: 3',
        '  - not:',
        '      event: ticket_opened',
        '      source: support',
        '      within: 14d',
      ].join('\n'),
    },
  },
  {
    name: 'cohort_chain',
    about: 'cohort references a -> b -> c, evaluated in the same pass',
    rules: {
      chain_a: 'any:\n  - cohort: chain_b\n  - not: {cohort: chain_c}',
      chain_b: 'all:\n  - cohort: chain_c\n  - event: export_created',
      chain_c: 'event: signed_up\nwithin: 30d',
    },
  },
  {
    name: 'mixed_windows',
    about: 'one leaf without a window: one scan of all history, no dt >= pruning, no population scan',
    rules: {
      weekly_login: 'event: login\nwithin: 7d',
      repeat_buyer: 'event: purchase\ncount: {gte: 2}',
    },
  },
  {
    name: 'all_windowed',
    about: 'every leaf windowed (velocity too): dt pruned to the widest window and a separate population scan',
    rules: {
      weekly_login: 'event: login\nwithin: 7d',
      lapsed: 'not:\n  event: login\n  between: [60d, 30d]',
      cooling: 'velocity: {event: login, window: 6w}\nlt: 1',
    },
  },
  {
    name: 'hostile_values',
    about: 'user text that looks like SQL, with quotes, backslashes, LIKE wildcards and unicode',
    rules: {
      hostile: [
        `event: "${INJECTION}"`,
        `source: ["crm'); DELETE FROM identities; --", "it's"]`,
        'where:',
        `  note: "${INJECTION}"`,
        "  path: 'C:\\temp\\new'",
        "  slash: '\\'",
        '  promo: {in: ["50%_off", "a_b", "\'\'"]}',
        '  city: {not_in: ["naïve café ☕", "東京", "🎉 party"]}',
        '  multi: "line1\\nline2\\tend"',
      ].join('\n'),
    },
  },
  {
    name: 'metrics',
    about: 'the KPI metrics beside a cohort: activation events with a filter, and value of any event',
    rules: { weekly_logins: 'event: login\nwithin: 7d' },
    metrics: parseConfig(
      'metrics:\n  activation: {event: [feature_used, export_created], source: product, where: {plan: pro}, within: 14d}\n  value: {within: 30d}\n',
      'cohorts.config.yaml',
    ).metrics,
  },
  {
    name: 'uploaded_lists',
    about: 'uploaded lists joined once to the per-person rows: a list alone, under not, and beside events',
    rules: {
      vips: 'list: vip_customers',
      active_not_blocked: 'all:\n  - event: login\n    within: 7d\n  - not: {list: blocked_people}',
      vip_or_blocked: 'any:\n  - list: blocked_people\n  - list: vip_customers',
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Lexing SQL text: literals, quoted identifiers and comments, by the standard SQL rules that both
// DuckDB and Trino follow: '...' with '' for a quote (a backslash is an ordinary character),
// "..." with "" for a quote, -- to the end of the line.
// ---------------------------------------------------------------------------------------------

/** A piece of SQL text: code, a '...' literal, a "..." identifier or a -- comment. */
export interface SqlPiece {
  readonly kind: 'code' | 'literal' | 'identifier' | 'comment';
  /** The text as written (with its quotes). */
  readonly text: string;
  /** For literals and identifiers: the value, quotes undoubled. */
  readonly value?: string;
}

/** Splits SQL into pieces; throws on an unterminated literal or identifier. */
export function lexSql(sql: string): SqlPiece[] {
  const pieces: SqlPiece[] = [];
  let code = '';
  let i = 0;
  const flush = () => {
    if (code) pieces.push({ kind: 'code', text: code });
    code = '';
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      flush();
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= sql.length)
          throw new Error(`unterminated ${c === "'" ? 'literal' : 'identifier'} at offset ${i}: ${sql.slice(i, i + 40)}`);
        const d = sql[j] as string;
        if (d === c) {
          if (sql[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += d;
        j++;
      }
      pieces.push({ kind: c === "'" ? 'literal' : 'identifier', text: sql.slice(i, j + 1), value });
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      flush();
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      pieces.push({ kind: 'comment', text: sql.slice(i, stop) });
      i = stop;
    } else {
      code += c;
      i++;
    }
  }
  flush();
  return pieces;
}

/** The SQL with every literal, quoted identifier and comment removed: only what the engine reads as code. */
export function codeOnly(sql: string): string {
  return lexSql(sql)
    .map((p) => (p.kind === 'code' ? p.text : ' '))
    .join('');
}

/** The values of every string literal in the SQL, in order. */
export function literalValues(sql: string): string[] {
  return lexSql(sql)
    .filter((p) => p.kind === 'literal')
    .map((p) => p.value as string);
}

/** The names of the CTEs of a compiled query, in order. */
export function cteNames(sql: string): string[] {
  return [...sql.matchAll(/^(?:WITH )?([a-z][a-z0-9_]*) AS (?:NOT MATERIALIZED )?\($/gm)].map((m) => m[1] as string);
}

/** The body of one CTE of a compiled query (the text between its parentheses). */
export function cteBody(sql: string, name: string): string {
  const start = sql.search(new RegExp(`^(?:WITH )?${name} AS (?:NOT MATERIALIZED )?\\($`, 'm'));
  if (start === -1) throw new Error(`no CTE ${name}`);
  const open = sql.indexOf('(', start);
  return sql.slice(open + 1, matchingParen(sql, open));
}

/** The offset of the parenthesis closing the one at `open`, skipping literals and identifiers. */
export function matchingParen(sql: string, open: number): number {
  let depth = 0;
  let offset = 0;
  for (const piece of lexSql(sql)) {
    if (piece.kind === 'code') {
      for (let k = 0; k < piece.text.length; k++) {
        const at = offset + k;
        if (at < open) continue;
        const ch = piece.text[k];
        if (ch === '(') depth++;
        if (ch === ')' && --depth === 0) return at;
      }
    }
    offset += piece.text.length;
  }
  throw new Error(`unbalanced parenthesis at offset ${open}: ${sql.slice(open, open + 60)}`);
}

// ---------------------------------------------------------------------------------------------
// Parse-checking Trino SQL with node-sql-parser 5.4.0 (database "trino"; it also has "athena", a
// Hive-flavoured grammar that rejects more of Trino than "trino" does).
// ---------------------------------------------------------------------------------------------

const { Parser } = nodeSqlParser;
const parser = new Parser();

/** Parses SQL with node-sql-parser's trino grammar, as is; throws its syntax error. */
export function parseTrinoAsIs(sql: string): ReturnType<InstanceType<typeof Parser>['astify']> {
  return parser.astify(sql, { database: 'trino' });
}

/**
 * Stands in for a backslash inside literals while parse-checking (a private-use character that
 * compiled SQL never holds).
 */
export const BACKSLASH_STAND_IN = '\uE000';

/**
 * What node-sql-parser 5.4.0 cannot read although Trino can, and how `parseTrino` rewrites it:
 * exactly these constructs, nothing else, so every other token is still checked.
 */
export const PARSER_GAPS: readonly ParserGap[] = [
  {
    construct: "a backslash inside a '...' literal",
    why: "the parser reads a backslash as an escape (MySQL style: \\t becomes a tab, \\' does not end the literal); in Trino it is an ordinary character",
    rewrite: 'each backslash inside a literal becomes U+E000 (a private-use character) before parsing',
    trino: "SELECT 'C:\\temp\\new' AS v",
    parserFails: () => {
      const misread = selectedLiteral(parseTrinoAsIs("SELECT 'C:\\temp\\new' AS v")) !== 'C:\\temp\\new';
      return misread && throws(() => parseTrinoAsIs("SELECT 'a\\' || 'b' AS v"));
    },
  },
  {
    construct: 'FILTER (WHERE ...) after max_by(...)',
    why: 'the parser accepts FILTER only after the aggregates it knows (count, sum, min, max, ...), not after max_by',
    rewrite:
      'max_by(x, y) becomes max(max_by(x, y)), so the FILTER follows an aggregate the parser knows and max_by and its arguments are still parsed',
    trino: 'SELECT max_by(x, ROW(ts, id)) FILTER (WHERE y > 1) AS m FROM t',
    parserFails: () => throws(() => parseTrinoAsIs('SELECT max_by(x, ROW(ts, id)) FILTER (WHERE y > 1) AS m FROM t')),
  },
  {
    construct: 'FILTER (WHERE ...) after min_by(...)',
    why: 'as for max_by: the parser accepts FILTER only after the aggregates it knows (earliest uses min_by)',
    rewrite: 'min_by(x, y) becomes max(min_by(x, y)), as max_by does',
    trino: 'SELECT min_by(x, ROW(ts, id)) FILTER (WHERE y > 1) AS m FROM t',
    parserFails: () => throws(() => parseTrinoAsIs('SELECT min_by(x, ROW(ts, id)) FILTER (WHERE y > 1) AS m FROM t')),
  },
  {
    construct: "x AT TIME ZONE 'UTC'",
    why: 'the parser does not know the AT TIME ZONE operator (Trino: the same instant in that zone; the tiles take the UTC date of ts with it)',
    rewrite: "each ` AT TIME ZONE 'UTC'` is dropped before parsing, so its operand is still parsed",
    trino: "SELECT CAST(ts AT TIME ZONE 'UTC' AS DATE) AS d FROM t",
    parserFails: () => throws(() => parseTrinoAsIs("SELECT CAST(ts AT TIME ZONE 'UTC' AS DATE) AS d FROM t")),
  },
  {
    construct: 'a window frame ending at 1 PRECEDING',
    why: 'the parser accepts only CURRENT ROW or N FOLLOWING as the end of a frame (a sequence reads the instants strictly before each row)',
    rewrite: 'each `AND 1 PRECEDING)` becomes `AND CURRENT ROW)` before parsing, so the rest of the window is still parsed',
    trino: 'SELECT max(ts) OVER (PARTITION BY p ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS m FROM t',
    parserFails: () =>
      throws(() =>
        parseTrinoAsIs('SELECT max(ts) OVER (PARTITION BY p ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS m FROM t'),
      ),
  },
];

/** A Trino construct node-sql-parser cannot read, and how the parse check works around it. */
export interface ParserGap {
  readonly construct: string;
  readonly why: string;
  readonly rewrite: string;
  /** Valid Trino using the construct. */
  readonly trino: string;
  /** Whether node-sql-parser still rejects or misreads the construct (drop the rewrite once it does not). */
  readonly parserFails: () => boolean;
}

function throws(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch {
    return true;
  }
}

/** The SQL with the rewrites of PARSER_GAPS applied. */
export function rewriteForParser(sql: string): string {
  // 1. Backslashes inside literals.
  let text = lexSql(sql)
    .map((p) => (p.kind === 'literal' ? p.text.replaceAll('\\', BACKSLASH_STAND_IN) : p.text))
    .join('');
  // 2. max_by(...) and min_by(...) FILTER: wrap each call in max(...), innermost last so offsets stay valid.
  const calls: number[] = [];
  let offset = 0;
  for (const piece of lexSql(text)) {
    if (piece.kind === 'code') for (const m of piece.text.matchAll(/\b(?:max|min)_by\(/g)) calls.push(offset + (m.index as number));
    offset += piece.text.length;
  }
  for (const at of calls.reverse()) {
    const close = matchingParen(text, at + 'max_by'.length);
    text = `${text.slice(0, at)}max(${text.slice(at, close + 1)})${text.slice(close + 1)}`;
  }
  // 3. AT TIME ZONE 'UTC' (code then a literal: inside a literal the quotes would be doubled).
  // 4. A frame ending at 1 PRECEDING (no literal holds this text: it would be followed by a quote).
  return text.replaceAll(" AT TIME ZONE 'UTC'", '').replaceAll(' AND 1 PRECEDING)', ' AND CURRENT ROW)');
}

/** Parses Trino SQL with node-sql-parser after the documented rewrites; throws on a syntax error. */
export function parseTrino(sql: string): ReturnType<InstanceType<typeof Parser>['astify']> {
  return parseTrinoAsIs(rewriteForParser(sql));
}

/** Reads the value of `SELECT <literal> AS v` from node-sql-parser's AST. */
export function selectedLiteral(ast: unknown): unknown {
  const statement = (Array.isArray(ast) ? ast[0] : ast) as { columns: { expr: { type: string; value: unknown } }[] };
  const expr = statement.columns[0]?.expr;
  if (!expr) throw new Error('no column');
  if (expr.type !== 'single_quote_string') throw new Error(`not one string literal: ${JSON.stringify(expr)}`);
  return expr.value;
}

// ---------------------------------------------------------------------------------------------
// Functions that compiled Athena SQL may call: a typo in a function name is not a syntax error.
// ---------------------------------------------------------------------------------------------

/** Every Trino function the Athena dialect and the shared compiler text use (each exists in Trino). */
export const TRINO_FUNCTIONS = new Set([
  'abs',
  'bool_or',
  'cast',
  'chr',
  'coalesce',
  'count',
  'count_if',
  'floor',
  'format',
  'json_extract',
  'json_extract_scalar',
  'json_format',
  'json_parse',
  'lower',
  'from_iso8601_timestamp_nanos',
  'length',
  'max',
  'max_by',
  'min',
  'min_by',
  'nullif',
  'regexp_like',
  'row',
  'row_number',
  'starts_with',
  'strpos',
  'substr',
  'sum',
  'translate',
  'trim',
  'try',
  'try_cast',
]);

/** Keywords that may stand before an opening parenthesis. */
const KEYWORDS_BEFORE_PAREN = new Set([
  'as',
  // A type with its precision: CAST(... AS timestamp(6) with time zone).
  'timestamp',
  'and',
  'or',
  'not',
  'in',
  'filter',
  'where',
  'over',
  'from',
  'then',
  'else',
  'when',
  'on',
  'select',
  'with',
]);

/** The names called as functions in the SQL (lower-cased), outside literals, identifiers and comments. */
export function calledFunctions(sql: string): string[] {
  const names = [...codeOnly(sql).matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) => (m[1] as string).toLowerCase());
  return [...new Set(names)].filter((n) => !KEYWORDS_BEFORE_PAREN.has(n)).sort();
}

/** Both dialects, for tests that compare them. */
export const DIALECTS = { athena: athenaDialect, duckdb: duckdbDialect } as const;
