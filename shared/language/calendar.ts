/**
 * Whether text starting with `YYYY-MM-DD` names a day that exists. `new Date` rolls impossible
 * days over (2026-02-30 becomes March 2), so a date is checked before it is parsed.
 */
export function isCalendarDay(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  // Day 0 of the next month is the last day of this one.
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= days;
}
