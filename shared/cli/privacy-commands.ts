import { readFileSync } from 'node:fs';
import pc from 'picocolors';
import { loadConfig, type ProjectConfig } from '../config/config.ts';
import type { CohortDefinition } from '../language/ast.ts';
import { loadCatalog } from '../language/catalog.ts';
import { type DefinitionProblem, formatProblem } from '../language/errors.ts';
import { forgetPerson } from '../privacy/erase.ts';
import { localPrivacyPorts } from '../local/local-privacy.ts';
import { personalPropertyProblems } from '../privacy/personal-properties.ts';
import { privacyCheck } from '../privacy/privacy-check.ts';
import type { Folders, Output } from './io.ts';
import { counted } from './format.ts';
import { openLocalContext } from '../local/local-context.ts';
import { requireStateFolder } from './state-folder.ts';

/** A definition file's text, for line and column; undefined when it cannot be read. */
export function definitionText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Definitions that compare a personal property with a value, each at its line and column. */
export function personalPropertyLines(definitions: readonly CohortDefinition[], config: ProjectConfig): DefinitionProblem[] {
  return personalPropertyProblems(definitions, config.privacy.personal_properties, definitionText);
}

/**
 * `cohorts forget PERSON...`: erases each person from every stored version and export and keeps
 * an audit record with a salted hash. Prints what was rewritten, naming the record, never the id;
 * exit 1 when a file still holds a person or could not be read (each named).
 */
export async function forgetCommand(folders: Folders, ids: readonly string[], io: Output): Promise<number> {
  const config = await loadConfig(folders.config);
  const privacy = localPrivacyPorts(await openLocalContext(folders), config, folders.privacyKey);
  let left = 0;
  for (const id of ids) {
    const outcome = await forgetPerson(id, privacy, 'cli');
    const fresh = outcome.new_versions.map((v) => `${v.cohort} v${v.version}`).join(', ');
    const { swept } = outcome;
    io.out(
      `forgotten (erasure record ${outcome.record}): ${counted(outcome.versions_rewritten, 'stored version')} of ${counted(outcome.cohorts.length, 'cohort')} rewritten, ` +
        `${counted(outcome.new_versions.length, 'new version')}${fresh ? ` (${fresh})` : ''}, ${counted(outcome.exports_rewritten, 'export file')} rewritten, ` +
        `${counted(swept.rewritten.length, 'other file')} rewritten` +
        // Only when this sweep found some: leftovers the command's start removed are reported on their own line.
        (swept.deleted.length > 0 ? `, ${counted(swept.deleted.length, 'crash leftover')} deleted` : '') +
        (outcome.lists_rewritten.length > 0 ? `, ${counted(outcome.lists_rewritten.length, 'uploaded list')} rewritten` : ''),
    );
    for (const file of swept.left)
      io.err(
        pc.red(
          `still holds the person (erasure record ${outcome.record}): ${file}: not a list forget can rewrite; remove the person from it by hand`,
        ),
      );
    for (const file of swept.unreadable)
      io.err(pc.red(`could not be read, so may still hold the person (erasure record ${outcome.record}): ${file}`));
    left += swept.left.length + swept.unreadable.length;
  }
  return left === 0 ? 0 : 1;
}

/**
 * `cohorts privacy-check`: every stored version, manifest and export, and the definitions. Exit 0
 * when nothing was found, 1 with one line per finding (counts and erasure records, never ids).
 */
export async function privacyCheckCommand(folders: Folders, io: Output): Promise<number> {
  await requireStateFolder(folders.state, 'privacy-check');
  const config = await loadConfig(folders.config);
  const catalog = await loadCatalog(folders.definitions);
  const privacy = localPrivacyPorts(await openLocalContext(folders), config, folders.privacyKey);
  const report = await privacyCheck(privacy, { definitions: catalog.definitions, textOf: definitionText });
  const checked = `${report.versions} versions, ${report.exports} export files and ${report.files} other files checked`;
  // A definition that does not load was never read for personal properties: a finding, not a pass.
  const findings = [
    ...report.findings.map((finding) => `${finding.kind}: ${finding.message}`),
    ...catalog.problems.map(
      (problem) => `invalid_definition: ${formatProblem(problem)} (not checked for personal properties: cohorts validate)`,
    ),
  ];
  if (findings.length === 0) {
    // The verdict is the command's answer, as the findings are (and as validate's): stdout.
    io.out(pc.green(`privacy check passed: ${checked}`));
    return 0;
  }
  for (const finding of findings) io.out(finding);
  io.err(pc.red(`privacy check failed: ${findings.length} finding${findings.length === 1 ? '' : 's'} (${checked})`));
  return 1;
}
