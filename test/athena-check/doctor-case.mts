/**
 * Writes the probe of `cohorts doctor --cloud` as a case: lake/ (the probe lake the doctor uploads),
 * definitions/ (its cohorts), case.json (its as-of) and expected/ (each cohort's members as the
 * local engine computes them on that lake, which is what the doctor compares Athena's with). So
 * run.sh puts the doctor's own probe through the emulation: what a deployment should answer. The
 * cohorts of a known-limit check (none at present) get no expected file: the doctor reports them
 * as LIMIT, not broken.
 *
 *   tsx doctor-case.mts OUT_DIR
 *
 * Prints the case folder (OUT_DIR/cohorts_doctor).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildProbe } from '../../shared/cli/doctor-command.ts';
import { PROBE_AS_OF, probeDefinitionFiles } from '../../shared/cli/doctor-probe.ts';

const [outArg] = process.argv.slice(2);
if (!outArg) {
  console.error('usage: doctor-case.mts OUT_DIR');
  process.exit(2);
}
const target = join(resolve(outArg), 'cohorts_doctor');
await mkdir(join(target, 'definitions'), { recursive: true });
await mkdir(join(target, 'expected'), { recursive: true });
const probe = await buildProbe(join(target, 'lake'));
await writeFile(join(target, 'case.json'), JSON.stringify({ as_of: PROBE_AS_OF.toISOString() }));
for (const { path, text } of probeDefinitionFiles()) await writeFile(join(target, 'definitions', path), text);
for (const [cohort, members] of probe.expected)
  await writeFile(join(target, 'expected', `${cohort}.txt`), members.map((m) => `${m}\n`).join(''));
console.log(target);
