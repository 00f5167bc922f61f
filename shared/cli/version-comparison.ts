import { integerLiteral, stringLiteral } from '../compiler/sql-text.ts';
import type { SnapshotStore } from '../store/snapshot-store.ts';

/** Where a deployment's stored versions can be queried: the Athena workgroup and Glue database of its stack. */
export interface VersionQueryPlace {
  readonly workgroup: string;
  readonly database: string;
}

/** Athena's `cohort_members` rows of one version, its file pinned (infra/catalog/lake-catalog.ts says why). */
function membersOf(store: SnapshotStore, id: string, version: number): string {
  return (
    `SELECT person_id FROM cohort_members WHERE cohort = ${stringLiteral(id)} AND version = ${integerLiteral(version)} ` +
    `AND "$path" = ${stringLiteral(`${store.locate(id, version)}members.parquet`)}`
  );
}

/**
 * How to compare versions `from` and `to` of a cohort directly: `cohorts diff` on the local state
 * folder; in a deployment (`athena` given), which `cohorts diff` cannot read, the Athena query over
 * the `cohort_members` table that lists who entered.
 */
export function versionComparisonHint(
  id: string,
  from: number,
  to: number,
  store: SnapshotStore,
  athena: VersionQueryPlace | undefined,
): string {
  if (athena === undefined) return `\`cohorts diff ${id} ${from} ${to}\` compares two versions directly`;
  return (
    `\`cohorts diff\` reads local folders only; in Athena (workgroup ${athena.workgroup}, database ${athena.database}) ` +
    `this lists who entered from v${from} to v${to} (swap the versions for who exited):\n` +
    `  ${membersOf(store, id, to)}\n  EXCEPT ${membersOf(store, id, from)}`
  );
}
