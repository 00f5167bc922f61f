const numbers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const percents = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1, signDisplay: 'exceptZero' });

/** `12345.678` -> `12,345.68`; the same on every machine, whatever its locale. */
export function formatNumber(n: number): string {
  return numbers.format(n);
}

const shares = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** A share (0 to 1) as a percentage with one decimal: `0.6158` -> `61.6%`. */
export function formatShare(share: number): string {
  return `${shares.format(share * 100)}%`;
}

/** Members that entered: `+1,234`, or `0`. */
export function formatEntered(n: number): string {
  return n === 0 ? '0' : `+${formatNumber(n)}`;
}

/** Members that exited: `−1,234` (a minus sign, not a hyphen), or `0`. */
export function formatExited(n: number): string {
  return n === 0 ? '0' : `\u2212${formatNumber(n)}`;
}

/** A relative change in percent: `+23.4%`, `−5.0%`, `0.0%`. */
export function formatPercent(pct: number): string {
  if (!Number.isFinite(pct)) return 'from empty';
  return `${percents.format(pct).replace('-', '\u2212')}%`;
}

/** An ISO instant as `2024-06-01 00:00 UTC` (seconds only when present). */
export function formatInstant(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString();
  const seconds = text.slice(17, 19) === '00' && text.slice(20, 23) === '000' ? '' : text.slice(16, 19);
  return `${text.slice(0, 10)} ${text.slice(11, 16)}${seconds} UTC`;
}

/** A check's observed value or threshold: numbers formatted, text as is, null as a dash. */
export function formatValue(value: number | string | null): string {
  if (value === null) return '\u2014';
  return typeof value === 'number' ? formatNumber(value) : value;
}
