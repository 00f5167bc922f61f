import { athenaDialect } from '../compiler/athena-dialect.ts';
import type { LakeRelations } from '../compiler/compile-refresh.ts';
import { jsonlEventsQuery, jsonlIdentitiesQuery } from '../compiler/jsonl-columns.ts';
import { identifier, stringLiteral, UnsafeSqlValueError } from '../compiler/sql-text.ts';
import { athenaListsRelation } from './athena-lists.ts';
import type { ParquetDates } from './lake-manifests.ts';
import { TS_UNITS, type TsUnit } from './lake-objects.ts';

/** The Glue database and tables of the lake, as the `CohortRefresh` construct creates them. */
export interface AthenaLakeOptions {
  /** The Glue database (the construct's `databaseName`, `cohort_refresh` by default). */
  readonly database: string;
  /**
   * The JSON Lines events table: one text column `line`, partitioned by `listing` and `dt`.
   *
   * @default 'events_jsonl'
   */
  readonly eventsJsonlTable?: string;
  /**
   * The Parquet events table (`ts` as the stored `bigint`), partitioned by `listing`, `unit` and `dt`.
   *
   * @default 'events_parquet'
   */
  readonly eventsParquetTable?: string;
  /**
   * The JSON Lines identity map table: one text column `line`, partitioned by `listing`.
   *
   * @default 'identities_jsonl'
   */
  readonly identitiesJsonlTable?: string;
  /**
   * The Parquet identity map table, partitioned by `listing`.
   *
   * @default 'identities_parquet'
   */
  readonly identitiesParquetTable?: string;
  /**
   * The uploaded lists table: one text column `line` over the definitions bucket's `lists/`.
   *
   * @default 'lists'
   */
  readonly listsTable?: string;
}

/** What one listing of the lake holds: which partitions the relations read (see `lakeManifests`). */
export interface LakeListing {
  /** The `listing` partition value the Plan wrote the manifests under. */
  readonly listing: string;
  /** The `dt` values holding JSONL events and, per `ts` unit, Parquet events, ascending. */
  readonly dates: { readonly jsonl: readonly string[]; readonly parquet: ParquetDates };
  /** Whether the identity map has JSONL or Parquet files. */
  readonly identities: { readonly jsonl: boolean; readonly parquet: boolean };
}

const NAME = /^[a-z][a-z0-9_]{0,127}$/;
const LISTING = /^[0-9a-f]{16,64}$/;

/** A quoted Glue name; only lower snake_case, as Glue stores names lower-cased anyway. */
function glueName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new UnsafeSqlValueError(`${kind} must be a lower snake_case name, got ${JSON.stringify(name)}`);
  return identifier(name);
}

const EPOCH = "TIMESTAMP '1970-01-01 00:00:00.000000 UTC'";

/**
 * A Parquet `ts` read as the INT64 it stores (the `bigint` column), as an exact instant: millis
 * and micros added to the epoch, nanos truncated toward zero to micros (bigint division), as
 * DuckDB's epoch_us does on the local path. No INT64 timestamp: no valid `ts`.
 */
const PARQUET_TS: Record<TsUnit, string> = {
  millis: `date_add('millisecond', ts, ${EPOCH})`,
  micros: `date_add('microsecond', ts, ${EPOCH})`,
  nanos: `date_add('microsecond', ts / 1000, ${EPOCH})`,
  none: 'CAST(NULL AS timestamp(6) with time zone)',
};

const EMPTY_EVENTS =
  'SELECT CAST(NULL AS VARCHAR) AS event_id, CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS VARCHAR) AS event_name, ' +
  'CAST(NULL AS timestamp(6) with time zone) AS ts, CAST(NULL AS VARCHAR) AS properties, CAST(NULL AS DOUBLE) AS value, CAST(NULL AS VARCHAR) AS dt WHERE FALSE';
const EMPTY_IDENTITIES =
  'SELECT CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS VARCHAR) AS person_id WHERE FALSE';

/**
 * Athena relations over the lake's Glue tables for one listing, in the shape the compiler expects.
 *
 * Each table reads only the files the Plan's manifests for this listing name (SymlinkTextInputFormat),
 * so a Parquet reader never opens a JSONL file nor the other way round. `listing` is an injected
 * partition: its equality here is what Athena needs to find the manifests. `dt` is a projected date:
 * the range of dates the listing holds bounds the projection, and the query's own `dt` filters
 * narrow it to the partitions a scan reads. JSONL lines reach the query as text (`line`) and are
 * read by jsonlEventsQuery and jsonlIdentitiesQuery (the reading the local engine uses too), Parquet
 * `properties` becomes the dialect's properties document; Parquet events are read per `unit` partition, the unit their
 * `ts` column stores (the Plan read each file's footer), so `ts` converts exactly to the microsecond.
 */
export function athenaLakeRelations(options: AthenaLakeOptions, listing: LakeListing): LakeRelations {
  if (!LISTING.test(listing.listing))
    throw new UnsafeSqlValueError(`a listing id is lower-case hex, got ${JSON.stringify(listing.listing)}`);
  const database = glueName('database', options.database);
  const table = (kind: string, name: string) => `${database}.${glueName(kind, name)}`;
  const eventsJsonl = table('eventsJsonlTable', options.eventsJsonlTable ?? 'events_jsonl');
  const eventsParquet = table('eventsParquetTable', options.eventsParquetTable ?? 'events_parquet');
  const identitiesJsonl = table('identitiesJsonlTable', options.identitiesJsonlTable ?? 'identities_jsonl');
  const identitiesParquet = table('identitiesParquetTable', options.identitiesParquetTable ?? 'identities_parquet');
  const ofListing = `listing = ${stringLiteral(listing.listing)}`;
  const datesOf = (dates: readonly string[]) =>
    `${ofListing} AND dt BETWEEN ${stringLiteral(dates[0] as string)} AND ${stringLiteral(dates.at(-1) as string)}`;

  const events: string[] = [];
  if (listing.dates.jsonl.length > 0) {
    events.push(jsonlEventsQuery(athenaDialect, { from: eventsJsonl, line: 'line', keep: ['dt'], where: datesOf(listing.dates.jsonl) }));
  }
  for (const unit of TS_UNITS) {
    const dates = listing.dates.parquet[unit] ?? [];
    if (dates.length === 0) continue;
    events.push(
      `SELECT event_id, source, user_id, event_name, ${PARQUET_TS[unit]} AS ts, ` +
        `${athenaDialect.propertiesOfText('CAST(properties AS VARCHAR)')} AS properties, CAST(value AS DOUBLE) AS value, dt ` +
        `FROM ${eventsParquet} WHERE ${datesOf(dates)} AND unit = ${stringLiteral(unit)}`,
    );
  }
  const identities: string[] = [];
  if (listing.identities.jsonl)
    identities.push(jsonlIdentitiesQuery(athenaDialect, { from: identitiesJsonl, line: 'line', where: ofListing }));
  if (listing.identities.parquet) {
    identities.push(
      'SELECT CAST(source AS VARCHAR) AS source, CAST(user_id AS VARCHAR) AS user_id, CAST(person_id AS VARCHAR) AS person_id ' +
        `FROM ${identitiesParquet} WHERE ${ofListing}`,
    );
  }
  return {
    events: `(${(events.length > 0 ? events : [EMPTY_EVENTS]).join(' UNION ALL ')})`,
    identities: `(${(identities.length > 0 ? identities : [EMPTY_IDENTITIES]).join(' UNION ALL ')})`,
    lists: athenaListsRelation(table('listsTable', options.listsTable ?? 'lists')),
  };
}
