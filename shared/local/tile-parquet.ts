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
