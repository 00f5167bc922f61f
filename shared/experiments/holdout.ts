import { createHash } from 'node:crypto';

/** The arm a member is in. */
export type Arm = 'treatment' | 'holdout';

/** A holdout as a definition declares it. */
export interface HoldoutSpec {
  /** The share held out, 0 < share < 1. */
  readonly share: number;
  readonly salt: string;
}

const SCALE = 2 ** 52;

/**
 * A person's place in [0, 1): the first 13 hex digits (52 bits) of sha256(salt + person_id) over
 * 16^13. The same person and salt always land in the same place, so a member keeps their arm for as
 * long as they stay in the cohort and the salt is unchanged.
 */
export function bucketOf(salt: string, personId: string): number {
  const hex = createHash('sha256')
    .update(salt + personId, 'utf8')
    .digest('hex');
  return Number.parseInt(hex.slice(0, 13), 16) / SCALE;
}

/** The arm of one person: holdout when their place is below the share. */
export function armOf(spec: HoldoutSpec, personId: string): Arm {
  return bucketOf(spec.salt, personId) < spec.share ? 'holdout' : 'treatment';
}

/** Splits members (in the order given) into treatment and holdout. */
export function splitMembers(spec: HoldoutSpec, members: readonly string[]): { treatment: string[]; holdout: string[] } {
  const treatment: string[] = [];
  const holdout: string[] = [];
  for (const member of members) (armOf(spec, member) === 'holdout' ? holdout : treatment).push(member);
  return { treatment, holdout };
}
