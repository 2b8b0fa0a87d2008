import { CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, ENGLAND_AND_WALES_BANK_HOLIDAYS, type BankHoliday } from './bank-holidays.js';
import { CalendarCoverageError } from './errors.js';
import type { ScheduleConfig } from './types.js';
import { addDays, isoDate, localDateTime, type LocalDate } from './zoned-time.js';

/** England and Wales holidays are London dates, whatever zone the slots are written in. */
export const HOLIDAY_TIME_ZONE = 'Europe/London';

const BY_DATE = new Map(ENGLAND_AND_WALES_BANK_HOLIDAYS.map((h) => [h.date, h]));

type HolidayRule = Pick<ScheduleConfig, 'extraBankHolidays'>;

/** The holiday on this London date, if any; throws when the calendar does not cover its year. */
export function bankHolidayOnDate(date: LocalDate, config: HolidayRule): BankHoliday | undefined {
  const iso = isoDate(date);
  if (config.extraBankHolidays.includes(iso)) return { date: iso, title: 'Extra bank holiday', notes: 'configured' };
  if (date.year < CALENDAR_FIRST_YEAR || date.year > CALENDAR_LAST_YEAR) {
    throw new CalendarCoverageError(iso, CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR);
  }
  return BY_DATE.get(iso);
}

/** The bank holiday that stops a launch at this instant: none when bank holidays are not skipped. */
export function skippedHolidayAt(ms: number, config: Pick<ScheduleConfig, 'skipBankHolidays' | 'extraBankHolidays'>): BankHoliday | undefined {
  if (!config.skipBankHolidays) return undefined;
  return bankHolidayOnDate(localDateTime(ms, HOLIDAY_TIME_ZONE), config);
}

/** The next `n` holidays on or after the London date of `from`, as far as the calendar reaches. */
export function upcomingBankHolidays(from: number, n: number, config: HolidayRule): BankHoliday[] {
  const start = isoDate(localDateTime(from, HOLIDAY_TIME_ZONE));
  const all = [
    ...ENGLAND_AND_WALES_BANK_HOLIDAYS,
    ...config.extraBankHolidays.map((date) => ({ date, title: 'Extra bank holiday', notes: 'configured' })),
  ];
  return all.filter((h) => h.date >= start).sort((a, b) => a.date.localeCompare(b.date)).slice(0, n);
}

/** `YYYY-MM-DD` list, e.g. `2026-06-15,2026-06-16` (`none` for none). */
export function parseHolidayDates(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'none') return [];
  return trimmed.split(',').map((d) => d.trim()).filter((d) => d !== '').map((d) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
    const date = m === null ? undefined : { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
    // A date that round-trips through the calendar is a real one (no 2026-02-30).
    if (date === undefined || isoDate(addDays(date, 0)) !== d) throw new Error(`"${d}" is not a date YYYY-MM-DD`);
    return d;
  });
}
