import type { CheckResult } from '../store/manifest.ts';

/** Status of a value against warn and fail levels: at or above a level reaches it. */
export function levelStatus(value: number, warn: number, fail: number | undefined): CheckResult['status'] {
  if (fail !== undefined && value >= fail) return 'fail';
  return value >= warn ? 'warn' : 'pass';
}

/** The level a status was judged against: the fail level for a fail, else the warn level. */
export const levelFor = (status: CheckResult['status'], warn: number, fail: number | undefined): number =>
  status === 'fail' && fail !== undefined ? fail : warn;

/** Rounds to at most `digits` decimals. */
export const rounded = (value: number, digits: number): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** A count or amount as people read it: 12,345 or 0.5. */
export const num = (value: number): string => grouped.format(value);

/** A count with its noun: "1 row", "2 rows". */
export const counted = (value: number, noun: string, plural = `${noun}s`): string => `${num(value)} ${value === 1 ? noun : plural}`;

/** A percentage with at most two decimals: 0.5%, 12.35%. */
export const pct = (value: number): string => `${grouped.format(rounded(value, 2))}%`;

/** `part` of `whole` in percent; 0 when the whole is 0. */
export const share = (part: number, whole: number): number => (whole > 0 ? (part / whole) * 100 : 0);

/** "warns at 1%, fails at 10%" (or "never fails" without a fail level). */
export function levelsText(warn: string, fail: string | undefined): string {
  return fail === undefined ? `warns at ${warn}, never fails` : `warns at ${warn}, fails at ${fail}`;
}

/** The worst of several statuses. */
export function worstStatus(statuses: Iterable<CheckResult['status']>): CheckResult['status'] {
  let worst: CheckResult['status'] = 'pass';
  for (const status of statuses) {
    if (status === 'fail') return 'fail';
    if (status === 'warn') worst = 'warn';
  }
  return worst;
}
