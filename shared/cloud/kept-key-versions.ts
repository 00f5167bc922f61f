import { randomBytes } from 'node:crypto';

/**
 * How long a version of the kept identity keys stays after the state stopped naming it (or, for one
 * no state ever named, after its build began): a run that read the state before it changed finishes
 * well within it (the state machine's execution timeout, 2 hours by default; the construct refuses one
 * of 24 hours or more: validateTimeoutWithinGrace).
 */
export const KEPT_KEYS_GRACE_MS = 24 * 60 * 60 * 1000;

/**
 * A version of the kept keys: the fingerprint's first 16 hex digits, the build's start (ms since
 * the epoch, 13 digits) and 8 random hex digits, so two builds never share a folder. A version of a
 * release before 2026-12-06 is the fingerprint prefix alone (still served; its build time unknown).
 */
const VERSION = /^[0-9a-f]{16}(?:-(\d{13})-[0-9a-f]{8})?$/;

/** Whether `version` is one {@link buildVersion} makes (or one of before). */
export const isKeyVersion = (version: string): boolean => VERSION.test(version);

/** A new build's version, unique to it (see {@link isKeyVersion}). */
export function buildVersion(fingerprint: string, nowMs: number, random: () => string = () => randomBytes(4).toString('hex')): string {
  return `${fingerprint.slice(0, 16)}-${String(Math.trunc(nowMs)).padStart(13, '0')}-${random()}`;
}

/** Versions no longer named current, each with the time (ms) it stopped being current. */
export type RetiredVersions = Readonly<Record<string, number>>;

/** What {@link keptVersions} decides after a build. */
export interface KeptVersions {
  /** The versions whose files go: not current, and past the grace period. */
  readonly remove: readonly string[];
  /** The versions still kept besides the current one, for the state. */
  readonly retired: RetiredVersions;
}

/**
 * Which versions of the kept keys go after the build of `current`: every other version found (its
 * folder listed) once {@link KEPT_KEYS_GRACE_MS} passed since it stopped being current (`retired`),
 * or, for one no state named (a build that lost the race for the state, or one a crash cut off),
 * since its build began (0 for a version of before). A version another run still reads is current
 * in the state it read, so it stays at least the grace period after that state was replaced.
 */
export function keptVersions(
  found: readonly string[],
  current: string,
  retired: RetiredVersions,
  nowMs: number,
  graceMs: number,
): KeptVersions {
  const remove: string[] = [];
  const kept: Record<string, number> = {};
  for (const version of new Set(found)) {
    if (version === current) continue;
    const since = retired[version] ?? Number(VERSION.exec(version)?.[1] ?? 0);
    if (nowMs - since > graceMs) remove.push(version);
    else if (retired[version] !== undefined) kept[version] = since;
  }
  return { remove: remove.sort(), retired: kept };
}
