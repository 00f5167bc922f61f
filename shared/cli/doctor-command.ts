import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import pc from 'picocolors';
import { athenaDialect } from '../compiler/athena-dialect.ts';
import { compileRefresh } from '../compiler/compile-refresh.ts';
import { AthenaQueryRunner } from '../cloud/athena-query.ts';
import { checkDeployment, type DoctorProbe, type DoctorReport } from '../cloud/deployment-doctor.ts';
import { openDuckDb } from '../local/open-duckdb.ts';
import { buildCatalog } from '../language/catalog.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { DuckDbEngine } from '../local/duckdb-engine.ts';
import { uniqueInByteOrder } from '../store/parquet-members-codec.ts';
import type { Output } from './io.ts';
import { readCloudDeployment } from './cloud-deployment.ts';
import { PROBE_TABLE_ROWS, writeProbeLake } from './doctor-lake.ts';
import { PROBE_AS_OF, PROBE_CHECKS, probeDefinitionFiles } from './doctor-probe.ts';

/** Options of `cohorts doctor --cloud`. */
export interface DoctorOptions {
  readonly stackOutputs?: string;
  /** Leave the probe lake and its manifests in the results bucket. */
  readonly keep: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

/** The doctor waits at most this long for one query: a probe query takes seconds. */
const DOCTOR_MAX_WAIT_MS = 120_000;

/**
 * `cohorts doctor --cloud [--stack-outputs FILE] [--keep]`: runs the probe (doctor-probe.ts)
 * through the deployment's workgroup and prints one line per check, the bytes each query scanned
 * and the time taken. The expected members are the local engine's on the same probe lake (DuckDB,
 * the SPEC's reading), not written down. Exit 1 when anything would break.
 */
export async function doctorCommand(options: DoctorOptions, io: Output): Promise<number> {
  const deployment = await readCloudDeployment({
    env: options.env ?? process.env,
    ...(options.stackOutputs === undefined ? {} : { stackOutputs: options.stackOutputs }),
  });
  const dir = await mkdtemp(join(tmpdir(), 'cohorts-doctor-'));
  let probe: DoctorProbe;
  try {
    probe = await buildProbe(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const runner = new AthenaQueryRunner(new AthenaClient({}), {
    workGroup: deployment.ATHENA_WORKGROUP,
    database: deployment.GLUE_DATABASE,
    maxWaitMs: deployment.ATHENA_MAX_WAIT_MS ?? DOCTOR_MAX_WAIT_MS,
  });
  io.err(
    `checking workgroup ${deployment.ATHENA_WORKGROUP}, database ${deployment.GLUE_DATABASE} (a probe lake under s3://${deployment.ATHENA_RESULTS_BUCKET}/doctor/)`,
  );
  const report = await checkDeployment(probe, {
    s3: new S3Client({}),
    runner,
    database: deployment.GLUE_DATABASE,
    resultsBucket: deployment.ATHENA_RESULTS_BUCKET,
    keep: options.keep,
  });
  for (const line of formatDoctorReport(report)) io.out(line);
  return report.lines.some((l) => l.status === 'broken') ? 1 : 0;
}

/**
 * The doctor's probe: writes the probe lake into `dir` and computes, with the local engine on it,
 * the members each probe cohort must have; the Athena query is compiled later, over the relations
 * of the probe's manifests.
 */
export async function buildProbe(dir: string): Promise<DoctorProbe> {
  const catalog = buildCatalog(probeDefinitionFiles());
  if (catalog.problems.length > 0) throw new Error(`the doctor's probe cohorts are invalid: ${JSON.stringify(catalog.problems)}`);
  const cohorts = catalog.definitions;
  const connection = await openDuckDb({ threads: 1 });
  try {
    const files = await writeProbeLake(connection, dir);
    return {
      files,
      compile: (lake) => compileRefresh({ cohorts, asOf: PROBE_AS_OF, lake, dialect: athenaDialect }),
      expected: await localMembers(new DuckDbEngine(connection, dir), cohorts),
      tableRows: PROBE_TABLE_ROWS,
      checks: PROBE_CHECKS,
    };
  } finally {
    connection.closeSync();
  }
}

/** The probe cohorts' members on the local engine: what the SPEC says they are. */
async function localMembers(engine: DuckDbEngine, cohorts: readonly CohortDefinition[]): Promise<Map<string, string[]>> {
  const compiled = compileRefresh({ cohorts, asOf: PROBE_AS_OF, lake: (await engine.lake()).relations, dialect: engine.dialect });
  const result = await engine.evaluate(compiled.sql, 'doctor');
  const expected = new Map<string, string[]>();
  for (const [cohort, column] of compiled.columns) expected.set(cohort, uniqueInByteOrder(await engine.members(result, column)));
  await engine.release(result);
  return expected;
}

/** Bytes as Athena bills them, in KB with one decimal. */
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** The report's lines: one per check (BROKEN ones with what they mean), the queries, the time, the cleanup. */
export function formatDoctorReport(report: DoctorReport): string[] {
  const out: string[] = [];
  const label = { ok: pc.green('ok    '), broken: pc.red('BROKEN') };
  for (const line of report.lines) {
    out.push(`${label[line.status]} ${line.check}: ${line.detail}`);
    if (line.status !== 'ok' && line.meaning) out.push(`       means: ${line.meaning}`);
  }
  const total = report.queries.reduce((sum, q) => sum + (q.bytesScanned ?? 0), 0);
  const each = report.queries.map((q) => `${q.name} ${kb(q.bytesScanned ?? 0)} (${q.queryId})`).join(', ');
  out.push(`scanned ${kb(total)} in ${report.queries.length} queries${each ? `: ${each}` : ''}`);
  const cleanup =
    report.cleanup === 'deleted'
      ? `deleted the ${report.written} probe objects and the queries' result files`
      : report.cleanup === 'kept'
        ? `kept the probe lake at ${report.probeLake} and its manifests under lake-files/ (${report.written} objects; the results bucket's lifecycle expires them)`
        : `could not delete the probe (${report.cleanup.failed}); the results bucket's lifecycle expires it, or delete ${report.probeLake}`;
  out.push(cleanup);
  const broken = report.lines.filter((l) => l.status === 'broken').length;
  const seconds = `${(report.elapsedMs / 1000).toFixed(1)} s`;
  out.push(
    broken === 0
      ? `deployment ok: ${report.lines.length} checks in ${seconds}`
      : `${broken} of ${report.lines.length} checks BROKEN in ${seconds}: refreshes on this deployment would fail or differ from the SPEC as said above`,
  );
  return out;
}
