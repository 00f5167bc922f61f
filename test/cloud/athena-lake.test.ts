import nodeSqlParser from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { athenaLakeRelations, type LakeListing } from '../../shared/cloud/athena-lake.ts';
import { UnsafeSqlValueError } from '../../shared/compiler/sql-text.ts';

const { Parser } = nodeSqlParser;
const parser = new Parser();

/**
 * Parse-checks Trino SQL with node-sql-parser 5.4.0, database 'trino' (its 'athena' grammar is
 * Hive-flavoured and rejects `timestamp(6) with time zone`). `\A` and `\z` inside the regexp
 * literal are read as escapes; in Trino backslashes are plain characters. Either way the literal
 * stays one token, so the syntax check holds.
 */
const parseTrino = (sql: string) => parser.astify(sql, { database: 'trino' });
const tablesOf = (sql: string) => parser.tableList(sql, { database: 'trino' });

const LISTING = '0123456789abcdef0123456789abcdef';
const BOTH: LakeListing = {
  listing: LISTING,
  dates: { jsonl: ['2024-05-30', '2024-06-01'], parquet: { micros: ['2024-06-01', '2024-06-02', '2024-06-03'], nanos: ['2024-06-02'] } },
  identities: { jsonl: true, parquet: true },
};
const NOTHING: LakeListing = { listing: LISTING, dates: { jsonl: [], parquet: {} }, identities: { jsonl: false, parquet: false } };

describe('the Athena lake relations', () => {
  it('reads each format from its own table, for this listing and the dates it holds', () => {
    // Act
    const lake = athenaLakeRelations({ database: 'cohort_refresh' }, BOTH);

    // Assess
    expect(lake.events).toContain(`FROM "cohort_refresh"."events_jsonl" WHERE (line IS NULL OR `);
    expect(lake.events).toContain(`AND (listing = '${LISTING}' AND dt BETWEEN '2024-05-30' AND '2024-06-01')`);
    expect(lake.events).toContain(
      `FROM "cohort_refresh"."events_parquet" WHERE listing = '${LISTING}' AND dt BETWEEN '2024-06-01' AND '2024-06-03' AND unit = 'micros'`,
    );
    expect(lake.events).toContain(
      `FROM "cohort_refresh"."events_parquet" WHERE listing = '${LISTING}' AND dt BETWEEN '2024-06-02' AND '2024-06-02' AND unit = 'nanos'`,
    );
    expect(lake.events).not.toContain("unit = 'millis'");
    expect(lake.identities).toContain(`FROM "cohort_refresh"."identities_jsonl" WHERE (line IS NULL OR `);
    expect(lake.identities).toContain(`AND (listing = '${LISTING}')`);
    expect(lake.identities).toContain(`FROM "cohort_refresh"."identities_parquet" WHERE listing = '${LISTING}'`);
    expect(lake.events).not.toContain('$path');
  });

  it('converts a Parquet ts from the INT64 it stores, exactly, by the unit of its partition', () => {
    // Act
    const { events } = athenaLakeRelations(
      { database: 'cohort_refresh' },
      {
        ...NOTHING,
        dates: { jsonl: [], parquet: { millis: ['2024-06-01'], micros: ['2024-06-01'], nanos: ['2024-06-01'], none: ['2024-06-01'] } },
      },
    );

    // Assess: one branch per unit, in the unit's own partition
    const epoch = "TIMESTAMP '1970-01-01 00:00:00.000000 UTC'";
    const branch = (ts: string, unit: string) =>
      `SELECT event_id, source, user_id, event_name, ${ts} AS ts, CASE WHEN starts_with(json_format(try(json_parse(CAST(properties AS VARCHAR)))), '{') THEN '{"properties":' || CAST(properties AS VARCHAR) || '}' END AS properties, CAST(value AS DOUBLE) AS value, dt FROM "cohort_refresh"."events_parquet" WHERE listing = '${LISTING}' AND dt BETWEEN '2024-06-01' AND '2024-06-01' AND unit = '${unit}'`;
    expect(events).toBe(
      `(${[
        branch(`date_add('millisecond', ts, ${epoch})`, 'millis'),
        branch(`date_add('microsecond', ts, ${epoch})`, 'micros'),
        branch(`date_add('microsecond', ts / 1000, ${epoch})`, 'nanos'),
        branch('CAST(NULL AS timestamp(6) with time zone)', 'none'),
      ].join(' UNION ALL ')})`,
    );
    expect(() => parseTrino(`SELECT ts FROM ${events} AS e`)).not.toThrow();
  });

  it('extracts the JSONL fields from the line text, not from a JSON SerDe', () => {
    // Act
    const { events, identities } = athenaLakeRelations({ database: 'cohort_refresh' }, BOTH);

    // Assess
    // a strict JSON object (json_parse), each token as written (json_extract_scalar), the line as the properties document
    expect(events).toContain(`starts_with(json_format(try(json_parse(line))), '{') AS jl_ok`);
    expect(events).toContain(`json_extract_scalar(jl_line, '$["event_id"]')`);
    expect(events).toContain('CASE WHEN jl_ok THEN jl_line END AS properties');
    expect(events).toContain('CAST(try(from_iso8601_timestamp_nanos(');
    expect(identities).toContain(`json_extract_scalar(jl_line, '$["person_id"]')`);
  });

  it('parses as Trino where the compiler uses it, and reads exactly the lake tables', () => {
    // Prepare
    const lake = athenaLakeRelations({ database: 'cohort_refresh' }, BOTH);
    const events = `SELECT event_id, source, user_id, event_name, ts, properties, value FROM ${lake.events} AS lake_events WHERE dt >= '2024-05-31' AND dt <= '2024-07-02'`;
    const identities = `SELECT source, user_id, person_id FROM ${lake.identities} AS identities`;

    // Act
    const parse = () => [parseTrino(events), parseTrino(identities)];

    // Assess
    expect(parse).not.toThrow();
    expect(tablesOf(events).sort()).toEqual(['select::cohort_refresh::events_jsonl', 'select::cohort_refresh::events_parquet']);
    expect(tablesOf(identities).sort()).toEqual(['select::cohort_refresh::identities_jsonl', 'select::cohort_refresh::identities_parquet']);
  });

  it('reads no table of a format the lake does not hold, and an empty lake as no rows', () => {
    // Act
    const jsonlOnly = athenaLakeRelations({ database: 'cohort_refresh' }, { ...NOTHING, dates: { jsonl: ['2024-06-01'], parquet: {} } });
    const empty = athenaLakeRelations({ database: 'cohort_refresh' }, NOTHING);

    // Assess
    expect(tablesOf(`SELECT * FROM ${jsonlOnly.events} AS e`)).toEqual(['select::cohort_refresh::events_jsonl']);
    expect(tablesOf(`SELECT * FROM ${empty.events} AS e`)).toEqual([]);
    expect(empty.events).toMatch(/WHERE FALSE\)$/);
    expect(empty.identities).toMatch(/WHERE FALSE\)$/);
    expect(() => parseTrino(`SELECT event_id FROM ${empty.events} AS e`)).not.toThrow();
  });

  it('uses the table names it is given', () => {
    // Prepare
    const options = {
      database: 'lake_prod',
      eventsJsonlTable: 'ev_lines',
      eventsParquetTable: 'ev_parquet',
      identitiesJsonlTable: 'id_lines',
      identitiesParquetTable: 'id_parquet',
    };

    // Act
    const lake = athenaLakeRelations(options, BOTH);

    // Assess
    expect(lake.events).toContain('FROM "lake_prod"."ev_lines" WHERE');
    expect(lake.events).toContain('FROM "lake_prod"."ev_parquet" WHERE');
    expect(lake.identities).toContain('FROM "lake_prod"."id_lines" WHERE');
    expect(lake.identities).toContain('FROM "lake_prod"."id_parquet" WHERE');
  });

  it.each([
    [{ database: 'Cohort_Refresh' }],
    [{ database: 'cohort-refresh' }],
    [{ database: '_hidden' }],
    [{ database: '' }],
    [{ database: 'cohort_refresh', eventsJsonlTable: 'events"; DROP TABLE x; --' }],
    [{ database: 'cohort_refresh', identitiesParquetTable: 'db.identities' }],
  ])('refuses %j as a Glue name', (options) => {
    // Act and assess
    expect(() => athenaLakeRelations(options, BOTH)).toThrow(UnsafeSqlValueError);
  });

  it('refuses a listing id that is not hex', () => {
    // Act and assess
    expect(() => athenaLakeRelations({ database: 'cohort_refresh' }, { ...BOTH, listing: "x' OR 1=1 --" })).toThrow(UnsafeSqlValueError);
  });
});
