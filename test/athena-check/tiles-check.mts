/**
 * The Athena side of tiles on one case (issue 14), after run-duckdb.mts has checked the full query
 * in the same DuckDB session (the lake tables' views exist, the full query's table too).
 *
 * Two refreshes as the cloud runs them, with the project's own code: at 13:00 the day before the
 * case's as-of (mid-day: a window's edges are partial days; only when the as-of is a UTC midnight),
 * then at the case's as-of. Each one:
 *
 * 1. lists the lake (AthenaEngine.listLake over the case's lake, as athena-sql.mts), takes the tile
 *    days it needs (tileDaysNeeded) and the catalog's measures (catalogMeasures), and has the
 *    cloud's AthenaTileStore bring the tiles up to date: its own statements (the contested copies'
 *    INSERT INTO `tiles_contested`, the days' INSERT INTO `tiles` partitioned by `day`) run through
 *    athena-sim.mts, which emulates Athena's Hive tables over files the store's S3 calls list and
 *    delete (the snapshots bucket is a folder here); the second refresh builds only the new day;
 *    the index of counted ids (`tiles_ids`) gives the contested ids; the population index
 *    (`tiles_population`) is built by the first and grown by the second;
 * 2. asks for the sums tiles cannot hold exactly (inexactSumsSql), compiles the tiled query
 *    (compileTiledRefresh) and runs it as the Evaluate step's CTAS (evaluationStatement);
 * 3. reads each cohort through AthenaEngine.members() and compares: at the case's as-of with
 *    expected/<id>.txt byte for byte, at the mid-day as-of with the full query's members at that
 *    instant (compileRefresh, Athena dialect, same emulation); the population with the full query's.
 *
 * Then, for a few cases (GROWTH_CASES), the lake grows between refreshes (lake-growth.mts: a
 * realtime tick, late data, new days, duplicates across days), each refresh compared with the full
 * query at its instant, and the path it took (kept day, rebuilt day, population grown, contested
 * copies rewritten) checked from the store's report and the statements sent. Last, erasure.
 *
 * Returns `tiles-mismatch ...` lines and the counts for `tiles-summary`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AthenaFailure, AthenaSim, type Db, type GlueTable } from './athena-sim.mts';
import { caseLakeS3, FILES_BUCKET, LAKE_BUCKET } from './case-s3.mts';
import { addFiles, type GrowthStep, growthSteps } from './lake-growth.mts';
import { createLakeViews } from './lake-views.mts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DATABASE = 'cohort_refresh';
const SNAPSHOTS = 'snapshots-bucket';

/** What run-duckdb.mts hands over. */
export interface TilesCase {
  readonly project: string;
  readonly caseDir: string;
  readonly caseName: string;
  readonly work: string;
  readonly db: Db;
  /** A python3 that imports sqlglot. */
  readonly python: string;
  /** The case's as-of (ISO). */
  readonly asOf: string;
  /** The table of the full query at the case's as-of (run-duckdb's CTAS) and its cohort columns. */
  readonly full: { readonly table: string; readonly columns: Readonly<Record<string, string>> };
  readonly expectedIds: readonly string[];
  /** A cohort's members of an evaluation table, through AthenaEngine.members() (byte order). */
  readonly members: (table: string, column: string) => Promise<string[]>;
}

/** What {@link checkTiles} found: mismatch lines, cohorts compared and matching (per as-of), populations, raw measures. */
export interface TilesResult {
  readonly lines: string[];
  readonly ok: number;
  readonly total: number;
  readonly populationsOk: number;
  readonly populations: number;
  readonly rawMeasures: number;
}

/** The snapshots bucket as a folder: ListObjectsV2, DeleteObjects, PutObject, GetObject. */
function folderS3(root: string) {
  const keys = (dir: string, prefix: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? keys(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
        )
      : [];
  return {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const { name } = command.constructor;
      const input = command.input as {
        Bucket: string;
        Prefix?: string;
        Key?: string;
        Body?: string | Uint8Array;
        Delete?: { Objects: { Key: string }[] };
      };
      if (input.Bucket !== SNAPSHOTS) throw new Error(`unexpected S3 call ${name} on ${input.Bucket}`);
      switch (name) {
        case 'ListObjectsV2Command':
          return {
            Contents: keys(root, '')
              .filter((k) => k.startsWith(input.Prefix ?? ''))
              .map((Key) => ({ Key })),
            IsTruncated: false,
          };
        case 'DeleteObjectsCommand':
          for (const { Key } of input.Delete?.Objects ?? []) rmSync(join(root, Key), { force: true });
          return { Errors: [] };
        case 'PutObjectCommand': {
          const file = join(root, input.Key as string);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, input.Body ?? '');
          return { ETag: '"x"' };
        }
        case 'GetObjectCommand': {
          const file = join(root, input.Key as string);
          if (!existsSync(file)) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
          const bytes = new Uint8Array(readFileSync(file));
          return { Body: { transformToByteArray: async () => bytes }, ETag: '"x"' };
        }
        default:
          throw new Error(`unexpected S3 call ${name}`);
      }
    },
  };
}

const refuse = {
  send: async () => {
    throw new Error('no AWS call expected');
  },
};

const sameIds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** What the tile store's refresh reports (TileRefreshReport). */
interface StoreReport {
  readonly built: readonly string[];
  readonly rebuilt: readonly { readonly day: string; readonly reason: string }[];
  readonly fresh: number;
}

/**
 * The cases whose lake grows between refreshes (lake-growth.mts): windows over whole and partial
 * days (windows_boundaries), and duplicates in the lake with sums, distinct and latest values
 * (measures). Each growth step materializes one or two relations (about 30 s of DuckDB binding
 * each under load), so not every case grows. XCHECK_GROWTH: `all` (every case whose as-of is a
 * midnight), `none`, or case names separated by commas.
 */
const GROWTH_CASES = {
  has: (name: string) => {
    const chosen = process.env.XCHECK_GROWTH;
    if (chosen === 'all') return true;
    return (chosen === undefined ? ['windows_boundaries', 'measures'] : chosen.split(',')).includes(name);
  },
};

/**
 * What differs between the path a growth step's refresh took and the one it must take, from the
 * store's report and the statements it sent; undefined when it took it.
 */
function pathProblem(
  step: GrowthStep,
  report: StoreReport,
  statements: readonly string[],
  addedReads: readonly string[],
): string | undefined {
  const problems: string[] = [];
  const built = [...report.built].sort();
  const rebuilt = report.rebuilt.map((r) => r.day).sort();
  if (!sameIds(built, step.built)) problems.push(`built ${JSON.stringify(built)}, expected ${JSON.stringify(step.built)}`);
  if (!sameIds(rebuilt, step.rebuilt)) problems.push(`rebuilt ${JSON.stringify(rebuilt)}, expected ${JSON.stringify(step.rebuilt)}`);
  const reasons = [...new Set(report.rebuilt.map((r) => r.reason))];
  if (step.reason !== undefined && reasons.some((r) => r !== step.reason))
    problems.push(`rebuilt for ${JSON.stringify(reasons)}, expected ${step.reason}`);
  const into = (table: string) => statements.filter((s) => s.startsWith(`INSERT INTO "${DATABASE}"."${table}" (`));
  const keptQueries = statements.filter((s) => addedReads.some((r) => s.includes(r)));
  if (step.kept && into('tiles').length > 0) problems.push(`${into('tiles').length} INSERT INTO tiles, none expected (the day kept)`);
  if (step.kept && keptQueries.length === 0) problems.push('no query over the added files only (the kept day)');
  const grown = into('tiles_population').filter((s) => s.includes(`FROM "${DATABASE}"."tiles_population"`));
  if (step.populationGrown && (grown.length !== 1 || into('tiles_population').length !== 1))
    problems.push(
      `${into('tiles_population').length} INSERT INTO tiles_population, ${grown.length} over the old index: expected one, over it`,
    );
  if (!step.populationGrown && grown.length > 0) problems.push('the population index grown where it must be kept or built again');
  if (step.contested && into('tiles_contested').length === 0) problems.push('the contested copies not rewritten');
  return problems.length === 0 ? undefined : problems.join('; ');
}

export async function checkTiles(c: TilesCase): Promise<TilesResult> {
  const load = (path: string) => import(pathToFileURL(join(c.project, path)).href);
  const { loadCatalog, selectForRun } = await load('shared/language/catalog.ts');
  const { DEFAULT_CONFIG, loadConfig } = await load('shared/config/config.ts');
  const { athenaDialect } = await load('shared/compiler/athena-dialect.ts');
  const { compileRefresh } = await load('shared/compiler/compile-refresh.ts');
  const { catalogMeasures } = await load('shared/tiles/measures.ts');
  const { requestUses, tileDaysNeeded } = await load('shared/tiles/tiled-refresh.ts');
  const { tileExpiry } = await load('shared/tiles/expiry.ts');
  const rollup = await load('shared/cloud/athena-tile-rollup.ts');
  const { composeTiledRefresh } = await load('shared/workflow/tiled-composition.ts');
  const { versionKpis } = await load('shared/engine/snapshot-cohort.ts');
  const { AthenaEngine } = await load('shared/cloud/athena-engine.ts');
  const { AthenaTileStore } = await load('shared/cloud/athena-tile-store.ts');
  const { evaluationStatement, evaluationTableName } = await load('shared/cloud/athena-statement.ts');
  const tables = await load('shared/cloud/athena-tile-tables.ts');
  const layout = await load('shared/bucket-layout.ts');
  const { idForms } = await load('shared/privacy/person-hash.ts');
  const forgetSql = await load('shared/tiles/forget-sql.ts');

  const lines: string[] = [];
  const counts = { ok: 0, total: 0, populationsOk: 0, populations: 0, rawMeasures: 0, inexact: 0, folded: 0 };
  const bucketDir = join(c.work, 's3', SNAPSHOTS);
  const glue: Record<string, GlueTable> = {
    [`${DATABASE}.${tables.TILES_TABLE}`]: {
      location: join(bucketDir, layout.TILE_DAYS_PREFIX),
      columns: tables.TILE_TABLE_COLUMNS,
      partition: tables.TILE_DAY_COLUMN.name,
    },
    [`${DATABASE}.${tables.TILES_CONTESTED_TABLE}`]: {
      location: join(bucketDir, layout.TILE_CONTESTED_PREFIX),
      columns: tables.CONTESTED_TABLE_COLUMNS,
    },
    [`${DATABASE}.${tables.TILES_IDS_TABLE}`]: {
      location: join(bucketDir, layout.TILE_IDS_PREFIX),
      columns: tables.IDS_TABLE_COLUMNS,
      partition: tables.TILE_DAY_COLUMN.name,
    },
    [`${DATABASE}.${tables.TILES_POPULATION_TABLE}`]: {
      location: join(bucketDir, layout.TILE_POPULATION_PREFIX),
      columns: tables.POPULATION_TABLE_COLUMNS,
    },
  };
  const sim = new AthenaSim(c.db, c.python, join(c.project, 'test/athena-check/transpile.py'), glue);
  // The lake the refreshes read: a copy of the case's, which the growth steps add files to.
  const liveDir = join(c.work, 'live');
  const liveLake = join(liveDir, 'lake');
  mkdirSync(liveDir, { recursive: true });
  cpSync(join(c.caseDir, 'lake'), liveLake, { recursive: true });
  if (existsSync(join(c.caseDir, 'definitions'))) symlinkSync(join(c.caseDir, 'definitions'), join(liveDir, 'definitions'));
  const lakeBucket = caseLakeS3(liveLake);
  // Every listing writes its manifests; the Glue tables' views are written again (glue_tables.py)
  // when a listing wrote new ones, so a grown lake reads as Athena would read it.
  let synced = -1;
  const syncViews = async () => {
    const size = Object.keys(lakeBucket.manifests).length + lakeBucket.copies.length;
    if (size === synced) return;
    // The first listing is the case's own lake, whose views run-duckdb.mts made from the same manifests.
    const first = synced < 0;
    synced = size;
    if (first) return;
    const dir = join(liveDir, `tables-${size}`);
    const planFile = join(liveDir, `lake-files-${size}.json`);
    const files = { lake_bucket: LAKE_BUCKET, files_bucket: FILES_BUCKET, manifests: lakeBucket.manifests, copies: lakeBucket.copies };
    writeFileSync(planFile, JSON.stringify({ lake_files: files }));
    execFileSync(c.python, [join(c.project, 'test/athena-check/glue_tables.py'), planFile, liveLake, dir]);
    const read = JSON.parse(readFileSync(join(dir, 'tables.json'), 'utf8'));
    const refused = read.query_fails ?? (await createLakeViews(c.db, dir, read.parquet));
    if (refused) throw new Error(`the grown lake cannot be read: ${refused}`);
  };
  // The lake relations' text (jsonlEventsQuery over the manifests' tables) is pasted verbatim into
  // every statement that scans the lake; DuckDB binds its macros for tens of seconds each time. The
  // statements read it from a table of its rows instead (made on first use from the text itself):
  // the full query above ran the text itself. One table per relation text: each listing, and each
  // relation over added files only (ListedLake.eventsOf, the kept-day query), has its own.
  const lakeTables = new Map<string, { table: string; made: boolean }>();
  const register = (text: string) => {
    if (!lakeTables.has(text)) lakeTables.set(text, { table: `"${DATABASE}"."xcheck_lake_${lakeTables.size + 1}"`, made: false });
  };
  const lakeRead = async (sql: string) => {
    let read = sql;
    for (const [text, entry] of [...lakeTables].sort((a, b) => b[0].length - a[0].length)) {
      if (!read.includes(text)) continue;
      if (!entry.made) {
        await sim.materialize(entry.table.replaceAll('"', ''), `SELECT * FROM ${text} AS r`);
        entry.made = true;
      }
      read = read.replaceAll(text, entry.table);
    }
    return read;
  };
  /** The relations over added files only that the store asked for (the kept-day queries read them). */
  const addedReads: string[] = [];
  const listLake = async () => {
    const listed = await engine.listLake();
    await syncViews();
    register(listed.view.relations.events);
    register(listed.view.relations.identities);
    const eventsOf = listed.eventsOf;
    if (eventsOf === undefined) return listed;
    return {
      ...listed,
      eventsOf: async (files: unknown) => {
        const text: string = await eventsOf(files);
        await syncViews();
        register(text);
        addedReads.push(text);
        return text;
      },
    };
  };
  /** Every statement sent to Athena, in order, as the store and the steps wrote it. */
  const sent: string[] = [];
  let queries = 0;
  const runner = {
    async execute(sql: string) {
      sent.push(sql);
      await sim.execute(await lakeRead(sql));
      return { queryId: `xcheck-tiles-${++queries}`, statistics: { dataScannedInBytes: 0 } };
    },
    async query(sql: string) {
      sent.push(sql);
      const { columns, rows } = await sim.query(await lakeRead(sql));
      const text = rows.map((row) => row.map((v) => (v === null || v === undefined ? null : String(v))));
      return { queryId: `xcheck-tiles-${++queries}`, statistics: { dataScannedInBytes: 0 }, columns, rows: text };
    },
  };
  const engine = new AthenaEngine({
    runner,
    s3: lakeBucket.s3,
    glue: refuse,
    database: DATABASE,
    lakeBucket: LAKE_BUCKET,
    resultsBucket: FILES_BUCKET,
  });
  const store = new AthenaTileStore({
    runner,
    s3: folderS3(bucketDir),
    database: DATABASE,
    bucket: SNAPSHOTS,
    lake: listLake,
    // The cases' id index is a few KB: its digests pick the days a derivation reads from the first byte on,
    // as they do in a lake past Athena's 10 MB billed a query (athena-tile-ids.ts).
    digestIndexFromBytes: 0,
  });

  /**
   * Forgets a person with the store's own statements and checks the tables: no row of their keys
   * left, every other row kept, every day still fresh; then every day rebuilt from the lake (their
   * rows back) and screened by forgetForgotten: none left again. The refreshes pass the expiry the
   * Tiles step passes (without it the store would drop its rollup and build the folded days again).
   * A rollup that held the person is dropped by the forget (its other rows with it): the next
   * refresh builds its days again, which forgetForgotten screens. Undefined when all holds.
   */
  const checkErasure = async (forms: readonly string[], lastAsOf: number): Promise<string | undefined> => {
    const tilesTable = `"${DATABASE}"."${tables.TILES_TABLE}"`;
    const contestedTable = `"${DATABASE}"."${tables.TILES_CONTESTED_TABLE}"`;
    const { view } = await listLake();
    const identities = view.relations.identities;
    const count = async (sql: string) => Number((await runner.query(`SELECT count(*) FROM (${sql}) AS counted`)).rows[0]?.[0] ?? -1);
    const held = forgetSql.tileRowsHeldSql(athenaDialect, tilesTable, identities, forms);
    const state = async () => ({
      tiles: await count(`SELECT * FROM ${tilesTable}`),
      held: await count(held),
      contested: await count(`SELECT * FROM ${contestedTable}`),
      contestedHeld: await count(forgetSql.eventRowsHeldSql(athenaDialect, contestedTable, identities, forms)),
    });
    const inRollup = (sql: string) =>
      `SELECT * FROM (${sql}) AS r WHERE r.day IN (${rollup.ROLLUP_SLOTS.map((s: string) => `'${s}'`).join(', ')})`;
    const before = await state();
    if (before.held === 0) return 'the person has no tile row to forget';
    const rollupBefore = { rows: await count(inRollup(`SELECT * FROM ${tilesTable}`)), held: await count(inRollup(held)) };
    await store.forget(forms);
    const after = await state();
    // A rollup holding the person goes whole.
    const dropped = rollupBefore.held > 0 ? rollupBefore.rows - rollupBefore.held : 0;
    const want = {
      tiles: before.tiles - before.held - dropped,
      held: 0,
      contested: before.contested - before.contestedHeld,
      contestedHeld: 0,
    };
    if (JSON.stringify(after) !== JSON.stringify(want)) return `after forget ${JSON.stringify(after)}, expected ${JSON.stringify(want)}`;
    const partitions: string[] = view.inputs({ to: '9999-12-31' }).find((t: { table: string }) => t.table === 'events')?.partitions ?? [];
    const request = { cohorts, asOf: new Date(lastAsOf), lake: view.relations, dialect: athenaDialect, metrics: config.metrics };
    const days = tileDaysNeeded(request, partitions[0]?.replace(/^dt=/, ''));
    const expiry = tileExpiry({ uses: requestUses(request), asOf: lastAsOf });
    const isForgotten = (id: string) => forms.includes(id);
    const again = await store.refresh({ measures, days, runId: 'xcheck-erasure', expiry });
    const againBuilt = [...again.built, ...again.rebuilt.map((r: { day: string }) => r.day)];
    if (rollupBefore.held === 0 && againBuilt.length > 0) return `forget left ${againBuilt.length} days to rebuild`;
    if (rollupBefore.held > 0 && againBuilt.length === 0) return 'the rollup held the person, and no folded day was built again';
    // The days built again (a dropped rollup's) held the person's rows until screened, as the Tiles step does.
    const heldBuilt = (await state()).held;
    if (againBuilt.length > 0) await store.forgetForgotten(isForgotten, againBuilt);
    const clean = await state();
    if (clean.held !== 0 || clean.contestedHeld !== 0)
      return `after the refresh's screen ${JSON.stringify(clean)}: rows of the person left`;
    // Every single day rebuilt from the lake, where the person's events still are, then screened.
    rmSync(join(bucketDir, layout.TILE_FINGERPRINTS_PREFIX), { recursive: true, force: true });
    const rebuilt = await store.refresh({ measures, days, runId: 'xcheck-erasure-rebuilt', expiry });
    // The rows back: as many as before the forget, or as the dropped rollup's days built again held.
    const back = rollupBefore.held > 0 ? heldBuilt + before.held - rollupBefore.held : before.held;
    if ((await state()).held !== back) return 'a rebuild from the lake did not bring the rows back (nothing screened)';
    await store.forgetForgotten(isForgotten, rebuilt.built);
    const screened = await state();
    return JSON.stringify(screened) === JSON.stringify(clean)
      ? undefined
      : `after the rebuild's screen ${JSON.stringify(screened)}, expected ${JSON.stringify(clean)}`;
  };

  const catalog = await loadCatalog(join(c.caseDir, 'definitions'));
  const configPath = join(c.caseDir, 'cohorts.config.yaml');
  const config = existsSync(configPath) ? await loadConfig(configPath) : DEFAULT_CONFIG;
  const cohorts = selectForRun(catalog.definitions, {});
  const measures = catalogMeasures(cohorts, config.metrics);
  const caseAsOf = Date.parse(c.asOf);
  const asOfs = [...(caseAsOf % DAY_MS === 0 ? [caseAsOf - 11 * HOUR_MS] : []), caseAsOf];
  /**
   * One refresh through the tile store at `asOf` (the i-th), its tiled query evaluated and compared:
   * at the case's as-of with the expected files, else with the full query at that instant. Returns
   * the store's report, undefined when it failed (the failure is counted).
   */
  const refreshAt = async (asOf: number, i: number): Promise<StoreReport | undefined> => {
    const at = new Date(asOf).toISOString();
    const fail = (what: string) => {
      lines.push(`tiles-mismatch ${c.caseName}@${at}: ${what}`);
      counts.total += c.expectedIds.length;
      counts.populations += 1;
    };
    let tiledTable: string;
    let tiledColumns: ReadonlyMap<string, string>;
    let refreshed: StoreReport;
    let tiledMetrics: { activated: string; value: string } | undefined;
    // The composition's compile request (its one listing of the lake), for the full query at a mid-day as-of.
    let request: unknown;
    try {
      // The tiles step's own composition (as the Tiles function runs it): the days, the build, the
      // expiry, the population, the inexact sums, the tiled query; then Evaluate.
      const composed = await composeTiledRefresh(
        { cohorts, asOf: new Date(asOf), metrics: config.metrics, runId: `xcheck-${i}` },
        {
          engine: { dialect: athenaDialect, lake: async () => (await listLake()).view, rows: (sql: string) => engine.rows(sql) },
          tiles: store,
        },
      );
      const { report, compiled: tiled } = composed;
      request = composed.request;
      counts.rawMeasures += composed.raw.measures.length + composed.raw.uses.length;
      counts.inexact += composed.inexact.length;
      counts.folded += composed.expired.length;
      await runner.execute(evaluationStatement(DATABASE, `xcheck-tiles-${i}`, tiled.sql));
      tiledTable = evaluationTableName(`xcheck-tiles-${i}`);
      tiledColumns = tiled.columns;
      tiledMetrics = tiled.metrics;
      refreshed = report;
    } catch (error) {
      fail(error instanceof AthenaFailure ? error.message : ((error as Error).message.split('\n')[0] ?? ''));
      return undefined;
    }
    // The reference: the expected files at the case's as-of, else the full query at that instant.
    let reference = { table: c.full.table, columns: new Map(Object.entries(c.full.columns)) };
    if (asOf !== caseAsOf) {
      const full = compileRefresh(request);
      try {
        await runner.execute(evaluationStatement(DATABASE, `xcheck-full-${i}`, full.sql));
      } catch (error) {
        fail(`the full query failed: ${(error as Error).message.split('\n')[0]}`);
        return undefined;
      }
      reference = { table: evaluationTableName(`xcheck-full-${i}`), columns: full.columns };
    }
    const population = async (table: string) =>
      (await c.db.runAndReadAll(`SELECT person_id FROM "${DATABASE}"."${table}"`))
        .getRowsJS()
        .map((r) => String(r[0]))
        .sort();
    counts.populations += 1;
    const [got, want] = [await population(tiledTable), await population(reference.table)];
    if (sameIds(got, want)) counts.populationsOk += 1;
    else lines.push(`tiles-mismatch ${c.caseName}@${at}: population ${got.length}, the full query's ${want.length}`);
    for (const id of c.expectedIds) {
      counts.total += 1;
      const column = tiledColumns.get(id);
      if (!column) {
        lines.push(`tiles-mismatch ${c.caseName}/${id}@${at}: the tiled query has no column for it`);
        return undefined;
      }
      const members = await c.members(tiledTable, column);
      const expected =
        asOf === caseAsOf
          ? readFileSync(join(c.caseDir, 'expected', `${id}.txt`), 'utf8')
              .split('\n')
              .slice(0, -1)
          : await c.members(reference.table, reference.columns.get(id) as string);
      if (sameIds(members, expected)) counts.ok += 1;
      else {
        const want = new Set(expected);
        const have = new Set(members);
        const extra = members.filter((m) => !want.has(m)).length;
        const missing = expected.filter((m) => !have.has(m)).length;
        lines.push(
          `tiles-mismatch ${c.caseName}/${id}@${at}: ${members.length} members, expected ${expected.length}: ${extra} extra, ${missing} missing`,
        );
      }
      // The KPIs (the value sum read from tiles whether integral or not): equal to the full query's once rounded as a version writes them.
      if (tiledMetrics) {
        const kpis = async (table: string, column: string) => {
          const m = tiledMetrics as { activated: string; value: string };
          const [size, activated, valueSum] = (
            await c.db.runAndReadAll(
              `SELECT count(*), count_if("${m.activated}"), coalesce(sum("${m.value}"), 0) FROM "${DATABASE}"."${table}" WHERE "${column}"`,
            )
          )
            .getRowsJS()[0]
            ?.map(Number) ?? [0, 0, 0];
          return JSON.stringify(versionKpis({ size, activated, value_sum: valueSum }, 0, 0, config.metrics));
        };
        counts.total += 1;
        const [gotKpis, wantKpis] = [await kpis(tiledTable, column), await kpis(reference.table, reference.columns.get(id) as string)];
        if (gotKpis === wantKpis) counts.ok += 1;
        else lines.push(`tiles-mismatch ${c.caseName}/${id}@${at}: KPIs ${gotKpis}, the full query's ${wantKpis}`);
      }
    }
    return refreshed;
  };

  try {
    for (const [i, asOf] of asOfs.entries()) await refreshAt(asOf, i);
    let lastAsOf = caseAsOf;
    // The lake grows between refreshes (lake-growth.mts): the paths that run only then, checked.
    const steps = GROWTH_CASES.has(c.caseName) && caseAsOf % DAY_MS === 0 ? growthSteps(liveLake, caseAsOf) : undefined;
    const growthStarted = Date.now();
    for (const [n, step] of (steps ?? []).entries()) {
      addFiles(liveLake, step);
      const [from, reads] = [sent.length, addedReads.length];
      const report = await refreshAt(step.asOf, asOfs.length + n);
      lastAsOf = step.asOf;
      if (report === undefined) continue;
      counts.total += 1;
      const problem = pathProblem(step, report, sent.slice(from), addedReads.slice(reads));
      if (problem) lines.push(`tiles-mismatch ${c.caseName}@${new Date(step.asOf).toISOString()}: ${step.name}: ${problem}`);
      else counts.ok += 1;
    }
    if (steps)
      lines.push(
        `note ${c.caseName}: tiles: the lake grown ${steps.length} times (${steps.map((s) => s.name).join(', ')}): ${((Date.now() - growthStarted) / 1000).toFixed(1)} s`,
      );
    // Erasure, as Plan carries out a deletion request and Tiles screens what it rebuilds: one check more.
    const person = c.expectedIds
      .flatMap((id) =>
        readFileSync(join(c.caseDir, 'expected', `${id}.txt`), 'utf8')
          .split('\n')
          .slice(0, -1),
      )
      .sort()[0];
    if (person !== undefined) {
      counts.total += 1;
      const problem = await checkErasure(idForms(person), lastAsOf).catch((error: Error) => `failed: ${error.message.split('\n')[0]}`);
      if (problem) lines.push(`tiles-mismatch ${c.caseName}: erasure: ${problem}`);
      else counts.ok += 1;
    }
  } finally {
    sim.close();
  }
  lines.push(
    `note ${c.caseName}: tiles: ${sim.statements} Athena statements, ${counts.inexact} sums inexact, ${counts.rawMeasures} read raw, ${counts.folded} days folded into the rollup`,
  );
  return { lines, ...counts };
}
