import { describe, expect, it } from 'vitest';
import { CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, ENGLAND_AND_WALES_BANK_HOLIDAYS } from '../../src/orchestrator/schedule/bank-holidays.js';
import { upcomingBankHolidays } from '../../src/orchestrator/schedule/index.js';

const DAY = 86_400_000;
const day = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d);
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const weekday = (ms: number): number => new Date(ms).getUTCDay();

/** Easter Sunday (Gregorian, the anonymous algorithm). */
function easter(y: number): number {
  const a = y % 19, b = Math.floor(y / 100), c = y % 100, d = Math.floor(b / 4), e = b % 4, f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3), h = (19 * a + b - d - g + 15) % 30, i = Math.floor(c / 4), k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451);
  return day(y, Math.floor((h + l - 7 * m + 114) / 31), ((h + l - 7 * m + 114) % 31) + 1);
}
const nthMonday = (y: number, month: number, last: boolean): number => {
  let t = last ? day(y, month + 1, 0) : day(y, month, 1);
  while (weekday(t) !== 1) t += last ? -DAY : DAY;
  return t;
};
/** A weekend holiday moves to the next weekday not already taken. */
function observed(dates: number[]): number[] {
  const taken = new Set<number>();
  return dates.map((t) => {
    let o = t;
    while (weekday(o) === 0 || weekday(o) === 6 || taken.has(o)) o += DAY;
    taken.add(o);
    return o;
  });
}

/** The statutory England and Wales pattern, for years without a proclaimed extra or moved holiday. */
function statutory(y: number): string[] {
  const e = easter(y);
  return [
    ...observed([day(y, 1, 1)]), e - 2 * DAY, e + DAY, nthMonday(y, 5, false), nthMonday(y, 5, true), nthMonday(y, 8, true),
    ...observed([day(y, 12, 25), day(y, 12, 26)]),
  ].sort((a, b) => a - b).map(iso);
}

describe('the offline England and Wales bank-holiday calendar', () => {
  it(`lists the statutory holidays of every year ${CALENDAR_FIRST_YEAR}–${CALENDAR_LAST_YEAR}, substitute days included`, () => {
    for (let y = CALENDAR_FIRST_YEAR; y <= CALENDAR_LAST_YEAR; y += 1) {
      expect(ENGLAND_AND_WALES_BANK_HOLIDAYS.filter((h) => h.date.startsWith(`${y}-`)).map((h) => h.date), String(y)).toEqual(statutory(y));
    }
  });

  it('matches the dates gov.uk publishes for 2026 and 2027', () => {
    const year = (y: string) => ENGLAND_AND_WALES_BANK_HOLIDAYS.filter((h) => h.date.startsWith(y)).map((h) => `${h.date} ${h.title}${h.notes ? ` (${h.notes})` : ''}`);
    expect(year('2026')).toEqual([
      '2026-01-01 New Year’s Day', '2026-04-03 Good Friday', '2026-04-06 Easter Monday', '2026-05-04 Early May bank holiday',
      '2026-05-25 Spring bank holiday', '2026-08-31 Summer bank holiday', '2026-12-25 Christmas Day', '2026-12-28 Boxing Day (Substitute day)',
    ]);
    expect(year('2027')).toEqual([
      '2027-01-01 New Year’s Day', '2027-03-26 Good Friday', '2027-03-29 Easter Monday', '2027-05-03 Early May bank holiday',
      '2027-05-31 Spring bank holiday', '2027-08-30 Summer bank holiday', '2027-12-27 Christmas Day (Substitute day)',
      '2027-12-28 Boxing Day (Substitute day)',
    ]);
  });

  it('lists the upcoming holidays from a London date, extra ones included', () => {
    expect(upcomingBankHolidays(Date.parse('2026-12-24T23:30Z'), 3, { extraBankHolidays: ['2026-12-31'] }).map((h) => h.date))
      .toEqual(['2026-12-25', '2026-12-28', '2026-12-31']);
  });
});
