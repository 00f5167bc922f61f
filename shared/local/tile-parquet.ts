/**
 * The COPY options of every Parquet file under `<state>/tiles/` (tiles, the index of counted ids,
 * contested copies, rollup, population index, carried partials). ZSTD rather than DuckDB's Snappy:
 * keys and ids are digits and hex, which Snappy barely compresses (the bench lake's 91 tile days
 * 15.0 -> 11.5 MB, the id index 17.3 -> 9.9 MB, the same rows). Readers need no change: the codec
 * is in each file, so files written before stay readable. The Athena tile tables ask for the same
 * codec (`parquet.compression`, infra/catalog/lake-catalog.ts). Rows sorted by identity key would
 * give 9.2 MB of tiles, but the sort cost the cold build 1.4 s CPU and 320 MB of peak memory.
 */
export const TILE_PARQUET_OPTIONS = 'FORMAT parquet, COMPRESSION zstd';

/**
 * The COPY options of the carried count partials (`tiles/partials/partials.parquet`: one row per identity key, one
 * BIGINT column per count use, about three in four values 0). Parquet v2 pages without dictionaries (delta-encoded
 * integers): building a dictionary for each of the 46 columns of the 330k keys at 10M events was about a third of
 * the (d) refresh's move of them (2.33-2.56 -> 1.88-2.15 s CPU, bench/RESULTS.md, How tiles work, **Carried
 * partials**); reading the file costs about the same (its 4.6 MB grow to 5.5). DuckDB and hyparquet (the
 * privacy sweep) read v2 pages.
 */
export const CARRIED_COUNTS_PARQUET_OPTIONS = `${TILE_PARQUET_OPTIONS}, PARQUET_VERSION V2, DICTIONARY_SIZE_LIMIT 1`;

/**
 * The order of the rows of a tile day file (`tiles/day=D/tiles.parquet`): by measure, so that each
 * row group holds one measure's rows (or the end of one and the start of the next) and a scan
 * filtered by `measure` (`=`, or an `IN` list, which DuckDB uses to skip row groups) skips the other
 * measures' groups by their min and max. On the 10M-event bench lake, where a day's ~370k rows lay
 * in 2-3 groups with the measures mixed, the (d) refresh's evaluate query went from 6.9-7.4 to
 * 6.0-6.6 s CPU and its bounds query from 1.6-1.7 to 1.4-1.6 (bench/RESULTS.md, How tiles work, **Tile days sorted by measure**).
 * A build's rows come in that order from its query (dayTilesSql `byMeasure`), not from a sort of the
 * batch, which raised the cold build's peak RSS by some 280 MB.
 */
export const TILE_DAY_ORDER = 'measure';

/**
 * The rows of a row group of a tile day file (DuckDB's default: 122,880). Of 8,192, 16,384 and
 * 32,768 rows, 16,384 gave the lowest CPU to (d)'s queries at 10M events; the files grow by about
 * 9% (each group keeps its own dictionaries).
 */
export const TILE_DAY_ROW_GROUP_SIZE = 16_384;
