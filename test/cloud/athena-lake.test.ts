import nodeSqlParser from 'node-sql-parser';
import { describe, expect, it } from 'vitest';
import { athenaLakeRelations } from '../../shared/cloud/athena-lake.ts';
import { UnsafeSqlValueError } from '../../shared/compiler/sql-text.ts';

const { Parser } = nodeSqlParser;
const parser = new Parser();

/**
 * Parse-checks Trino SQL with node-sql-parser 5.4.0, database 'trino' (its 'athena' grammar is
 * Hive-flavoured and rejects `timestamp(6) with time zone`). What the check cannot see:
 * - `"$path"` parses, but in a WHERE clause the parser reads a double-quoted name as a string
 *   (MySQL style), not as the column Trino sees; only the syntax around it is checked.
 * - `\A` and `\z` inside the regexp literal are read as escapes; in Trino backslashes are plain
 *   characters. Either way the literal stays one token, so the syntax check holds.
 */
const parseTrino = (sql: string) => parser.astify(sql, { database: 'trino' });
const tablesOf = (sql: string) => parser.tableList(sql, { database: 'trino' });

const EXPECTED_EVENTS =
  '(SELECT event_id, source, user_id, event_name, ' +
  "CASE WHEN regexp_like(ts, '\\A(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2}))\\z') " +
  'THEN CAST(try(from_iso8601_timestamp_nanos(ts)) AS timestamp(6) with time zone) END AS ts, ' +
  'CAST(properties AS VARCHAR) AS properties, CAST(value AS DOUBLE) AS value, dt ' +
  `FROM "cohort_refresh"."events_json" WHERE ("$path" LIKE '%.jsonl' OR "$path" LIKE '%.jsonl.gz') ` +
  'UNION ALL ' +
  'SELECT event_id, source, user_id, event_name, ' +
  "CAST(with_timezone(ts, 'UTC') AS timestamp(6) with time zone) AS ts, " +
  'CAST(properties AS VARCHAR) AS properties, CAST(value AS DOUBLE) AS value, dt ' +
  `FROM "cohort_refresh"."events_parquet" WHERE "$path" LIKE '%.parquet')`;

describe('the Athena lake relations', () => {
  it('reads events from the JSON and Parquet tables, each restricted to its own files', () => {
    // Prepare
    const options = { database: 'cohort_refresh' };

    // Act
    const lake = athenaLakeRelations(options);

    // Assess
    expect(lake.events).toBe(EXPECTED_EVENTS);
    expect(lake.identities).toBe('"cohort_refresh"."identities"');
  });

  it('parses as Trino where the compiler uses it, and reads exactly the lake tables', () => {
    // Prepare
    const lake = athenaLakeRelations({ database: 'cohort_refresh' });
    const events = `SELECT event_id, source, user_id, event_name, ts, properties, value FROM ${lake.events} AS lake_events WHERE dt >= '2024-05-31' AND dt <= '2024-07-02'`;
    const identities = `SELECT source, user_id, person_id FROM ${lake.identities} AS identities`;

    // Act
    const parse = () => [parseTrino(events), parseTrino(identities)];

    // Assess
    expect(parse).not.toThrow();
    expect(tablesOf(events).sort()).toEqual(['select::cohort_refresh::events_json', 'select::cohort_refresh::events_parquet']);
    expect(tablesOf(identities)).toEqual(['select::cohort_refresh::identities']);
  });

  it('uses the table names it is given', () => {
    // Prepare
    const options = { database: 'lake_prod', eventsJsonTable: 'ev_json', eventsParquetTable: 'ev_parquet', identitiesTable: 'id_map' };

    // Act
    const lake = athenaLakeRelations(options);

    // Assess
    expect(lake.events).toContain('FROM "lake_prod"."ev_json" WHERE');
    expect(lake.events).toContain('FROM "lake_prod"."ev_parquet" WHERE');
    expect(lake.identities).toBe('"lake_prod"."id_map"');
  });

  it.each([
    [{ database: 'Cohort_Refresh' }],
    [{ database: 'cohort-refresh' }],
    [{ database: '_hidden' }],
    [{ database: '' }],
    [{ database: 'cohort_refresh', eventsJsonTable: 'events"; DROP TABLE x; --' }],
    [{ database: 'cohort_refresh', identitiesTable: 'db.identities' }],
  ])('refuses %j as a Glue name', (options) => {
    // Prepare
    const build = () => athenaLakeRelations(options);

    // Act and assess
    expect(build).toThrow(UnsafeSqlValueError);
  });
});
