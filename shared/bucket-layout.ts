/**
 * Key prefixes of the deployment's buckets: what the stores write and read, and what the
 * construct's grants allow (infra/foundation/cohort-foundation.ts). The local state folder mirrors the same
 * keys. Each ends in `/`; a grant on a prefix is `<prefix>*`.
 */

/** Snapshots bucket: versions, manifests and `current.json` of each cohort (SPEC 5). */
export const SNAPSHOTS_PREFIX = 'snapshots/';
/**
 * Snapshots bucket: the privacy data (erasure records, suppression list, deletion requests). The
 * refresh functions may read only this prefix of it, so the cloud's suppression list must live here.
 */
export const PRIVACY_PREFIX = 'privacy/';
/** Snapshots bucket: one erasure record per forgotten person. */
export const ERASURES_PREFIX = `${PRIVACY_PREFIX}erasures/`;
/** Snapshots bucket: deletion requests, carried out by the next refresh. */
export const DELETION_REQUESTS_PREFIX = `${PRIVACY_PREFIX}deletion-requests/`;

/** Definitions bucket: the catalog of accepted definitions, decisions, guardrails and its audit trail. */
export const CATALOG_PREFIX = 'catalog/';
/** Definitions bucket: where analysts upload definitions to be validated. */
export const INCOMING_PREFIX = 'incoming/';

/** Exports bucket (and the local state folder): what downstream systems read. */
export const EXPORTS_PREFIX = 'exports/';

/** Athena results bucket: the workgroup's query results. */
export const RESULTS_PREFIX = 'results/';
/** Athena results bucket: the files of the tables a CTAS without `external_location` creates (the evaluations). */
export const EVALUATION_FILES_PREFIX = `${RESULTS_PREFIX}tables/`;
/** Athena results bucket: the manifests the lake tables read (the Glue tables' `storage.location.template`). */
export const LAKE_FILES_PREFIX = 'lake-files/';
/** Athena results bucket: the probe lake of `cohorts doctor --cloud`. */
export const DOCTOR_PREFIX = 'doctor/';

/** Snapshots bucket: the daily tiles (issue 14), built and read by Athena; the tiles function may write only here. */
export const TILES_PREFIX = 'tiles/';
/** Snapshots bucket: the Glue `tiles` table's root, one `day=YYYY-MM-DD/` folder of Parquet files per day. */
export const TILE_DAYS_PREFIX = `${TILES_PREFIX}days/`;
/** Snapshots bucket: the Glue `tiles_contested` table, every raw copy of the contested event ids. */
export const TILE_CONTESTED_PREFIX = `${TILES_PREFIX}contested/`;
/** Snapshots bucket: one fingerprint per tile day, `<day>.json`, written after the day's files. */
export const TILE_FINGERPRINTS_PREFIX = `${TILES_PREFIX}fingerprints/`;
/** Snapshots bucket: the Glue `tiles_ids` table (the index of counted ids), one `day=YYYY-MM-DD/` folder per day. */
export const TILE_IDS_PREFIX = `${TILES_PREFIX}ids/`;
/** Snapshots bucket: one fingerprint per day of the index of counted ids, `<day>.json`, written after the day's files. */
export const TILE_IDS_FINGERPRINTS_PREFIX = `${TILES_PREFIX}ids-fingerprints/`;
/**
 * Snapshots bucket: one object per day of the index of counted ids, `<day>.txt`, the sorted 64-bit
 * digests of its ids (athena-tile-id-digests.ts), written before the day's fingerprint.
 */
export const TILE_IDS_DIGESTS_PREFIX = `${TILES_PREFIX}ids-digests/`;
/** Snapshots bucket: the contested ids per day as last derived from the index (written after the contested copies). */
export const TILE_CONTESTED_IDS_KEY = `${TILES_PREFIX}contested.json`;
/** Snapshots bucket: the Glue `tiles_population` table, the population index of the tiles (issue 15). */
export const TILE_POPULATION_PREFIX = `${TILES_PREFIX}population/`;
/** Snapshots bucket: what the population index was built from, written after its files (outside the table's folder). */
export const TILE_POPULATION_STATE_KEY = `${TILES_PREFIX}population.json`;
/** Snapshots bucket: the tile days built while someone is forgotten and not screened yet (a JSON list of days). */
export const TILE_UNSCREENED_KEY = `${TILES_PREFIX}unscreened.json`;
/** Snapshots bucket: the lease over the tile store, `{ holder, since }`: one execution at a time touches the tiles (tile-lease.ts). */
export const TILE_LEASE_KEY = `${TILES_PREFIX}lease.json`;

/**
 * Snapshots bucket: the Plan step's source checks kept by `dt` partition (issue 15): `dt=<d>.json`
 * (counts and 64-bit event digests, no user id), `identity.json`, `checked.json`. Plan may read,
 * write and delete here only.
 */
export const SOURCE_CHECK_PARTS_PREFIX = 'checks/parts/';
/**
 * Snapshots bucket: the identity map's keys kept for the source checks (issue 15): the Glue
 * `identity_keys` table, one `version=<v>/` folder of Parquet files (source, MD5 of the normalized
 * user id) per version of the map; only Plan reads, writes and deletes here.
 */
export const IDENTITY_KEYS_PREFIX = 'checks/identity-keys/';
/** Snapshots bucket: which version of the kept identity keys is whole (written after its files, outside every `version=` folder). */
export const IDENTITY_KEYS_STATE_KEY = `${IDENTITY_KEYS_PREFIX}state.json`;

/**
 * Lake bucket, under the lake prefix: the records the ingestion could not place in `events/`
 * (Firehose's error output, `cohorts ingest`'s refused lines), one `<kind>/dt=YYYY-MM-DD/` folder per
 * kind and UTC day of arrival. Outside `events/`, so no refresh reads them as events; the source
 * checks count its files (`lake.refused`).
 */
export const INGEST_ERRORS_PREFIX = 'events-errors/';
/** `cohorts ingest` files its refused lines under this kind of {@link INGEST_ERRORS_PREFIX}. */
export const LOCAL_REFUSED_KIND = 'ingest-refused';
