import { shownValue } from '../language/errors.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';
import { UsageError } from './errors.ts';
import { parseVersion } from './io.ts';

/** Why an id without versions gets no answer: a typo'd id has none either, so both causes are named. */
export function noVersionsMessage(id: string, state: string): string {
  return `cohort ${shownValue(id)} has no versions in ${state}: check the id (\`cohorts checks\` lists the cohorts refreshed), or run \`cohorts run\` first`;
}

/**
 * A version named on the command line (`members --version`, `diff`, `learn --version`) that `id`
 * has; a usage error naming the id, or the versions it has, when it has no such version.
 */
export async function existingVersion(store: SnapshotStore, id: string, text: string, state: string): Promise<number> {
  const version = parseVersion(text);
  const versions = await store.versions(id);
  if (versions.length === 0) throw new UsageError(noVersionsMessage(id, state));
  if (!versions.includes(version))
    throw new UsageError(`cohort ${shownValue(id)} has no version ${version}; it has v${versions[0]} to v${versions.at(-1)}`);
  return version;
}
