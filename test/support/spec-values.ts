/**
 * SPEC readings of JSONL values, written from the SPEC's text alone (not from an engine),
 * so that a lake converted with them tells an engine's bugs apart from its readings.
 */

const TS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const DAY_US = 86_400_000_000n;

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Epoch microseconds (UTC) of a JSONL `ts` (SPEC section 1:
 * `YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`, at most 6 fraction digits), exact, or `undefined` when
 * the text is unparsable. Parsable also means a real calendar date, a time of day up to
 * 23:59:59 and an offset within ±18:00 (the ISO-8601 limits the SPEC's grammar stands for).
 */
export function tsMicros(text: string): bigint | undefined {
  const m = TS.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHour = Number(m[9]);
    const offsetMinute = Number(m[10]);
    if (offsetMinute > 59 || offsetHour * 60 + offsetMinute > 18 * 60) return undefined;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const fraction = BigInt((m[7] ?? '').padEnd(6, '0'));
  const seconds = hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return BigInt(daysFromCivil(year, month, day)) * DAY_US + BigInt(seconds) * 1_000_000n + fraction;
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * The text of a JSON number as written (SPEC section 4): digits as written when it has no
 * fraction or exponent (`-0` stays `-0`), else the shortest text of the double with `.0` when
 * integral; `undefined` where the SPEC defines none (magnitude outside `[1e-4, 1e15)`).
 */
export function numberText(raw: string): string | undefined {
  if (INTEGER.test(raw)) return raw;
  const value = Number(raw);
  const magnitude = Math.abs(value);
  if (!(magnitude >= 1e-4 && magnitude < 1e15)) return undefined;
  const text = String(value);
  return Number.isInteger(value) ? `${text}.0` : text;
}
