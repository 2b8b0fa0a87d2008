/**
 * England and Wales bank holidays, 2024–2030: an offline calendar, so the schedule never depends on a
 * network call at launch time.
 *
 * Source: https://www.gov.uk/bank-holidays.json, division `england-and-wales` (titles and the
 * "Substitute day" notes as published there). gov.uk publishes about two years ahead: the dates up to
 * 2027 match its published list; 2028–2030 are derived from the standing rules (New Year's Day, Good
 * Friday, Easter Monday, first and last Monday of May, last Monday of August, Christmas and Boxing Day,
 * with a weekend holiday substituted by the next weekday) and must be checked against gov.uk once it
 * publishes those years. Holidays announced by proclamation (as in 2022 and 2023) are not foreseeable:
 * add them here, or through the extra-bank-holidays setting until the calendar is updated.
 */
export interface BankHoliday {
  /** Europe/London calendar date, `YYYY-MM-DD`. */
  readonly date: string;
  readonly title: string;
  readonly notes: string;
}

export const CALENDAR_FIRST_YEAR = 2024;
export const CALENDAR_LAST_YEAR = 2030;

const DATES: readonly (readonly [string, string, string?])[] = [
  ['2024-01-01', 'New Year’s Day'], // Mon
  ['2024-03-29', 'Good Friday'], // Fri
  ['2024-04-01', 'Easter Monday'], // Mon
  ['2024-05-06', 'Early May bank holiday'], // Mon
  ['2024-05-27', 'Spring bank holiday'], // Mon
  ['2024-08-26', 'Summer bank holiday'], // Mon
  ['2024-12-25', 'Christmas Day'], // Wed
  ['2024-12-26', 'Boxing Day'], // Thu
  ['2025-01-01', 'New Year’s Day'], // Wed
  ['2025-04-18', 'Good Friday'], // Fri
  ['2025-04-21', 'Easter Monday'], // Mon
  ['2025-05-05', 'Early May bank holiday'], // Mon
  ['2025-05-26', 'Spring bank holiday'], // Mon
  ['2025-08-25', 'Summer bank holiday'], // Mon
  ['2025-12-25', 'Christmas Day'], // Thu
  ['2025-12-26', 'Boxing Day'], // Fri
  ['2026-01-01', 'New Year’s Day'], // Thu
  ['2026-04-03', 'Good Friday'], // Fri
  ['2026-04-06', 'Easter Monday'], // Mon
  ['2026-05-04', 'Early May bank holiday'], // Mon
  ['2026-05-25', 'Spring bank holiday'], // Mon
  ['2026-08-31', 'Summer bank holiday'], // Mon
  ['2026-12-25', 'Christmas Day'], // Fri
  ['2026-12-28', 'Boxing Day', 'Substitute day'], // Mon
  ['2027-01-01', 'New Year’s Day'], // Fri
  ['2027-03-26', 'Good Friday'], // Fri
  ['2027-03-29', 'Easter Monday'], // Mon
  ['2027-05-03', 'Early May bank holiday'], // Mon
  ['2027-05-31', 'Spring bank holiday'], // Mon
  ['2027-08-30', 'Summer bank holiday'], // Mon
  ['2027-12-27', 'Christmas Day', 'Substitute day'], // Mon
  ['2027-12-28', 'Boxing Day', 'Substitute day'], // Tue
  ['2028-01-03', 'New Year’s Day', 'Substitute day'], // Mon
  ['2028-04-14', 'Good Friday'], // Fri
  ['2028-04-17', 'Easter Monday'], // Mon
  ['2028-05-01', 'Early May bank holiday'], // Mon
  ['2028-05-29', 'Spring bank holiday'], // Mon
  ['2028-08-28', 'Summer bank holiday'], // Mon
  ['2028-12-25', 'Christmas Day'], // Mon
  ['2028-12-26', 'Boxing Day'], // Tue
  ['2029-01-01', 'New Year’s Day'], // Mon
  ['2029-03-30', 'Good Friday'], // Fri
  ['2029-04-02', 'Easter Monday'], // Mon
  ['2029-05-07', 'Early May bank holiday'], // Mon
  ['2029-05-28', 'Spring bank holiday'], // Mon
  ['2029-08-27', 'Summer bank holiday'], // Mon
  ['2029-12-25', 'Christmas Day'], // Tue
  ['2029-12-26', 'Boxing Day'], // Wed
  ['2030-01-01', 'New Year’s Day'], // Tue
  ['2030-04-19', 'Good Friday'], // Fri
  ['2030-04-22', 'Easter Monday'], // Mon
  ['2030-05-06', 'Early May bank holiday'], // Mon
  ['2030-05-27', 'Spring bank holiday'], // Mon
  ['2030-08-26', 'Summer bank holiday'], // Mon
  ['2030-12-25', 'Christmas Day'], // Wed
  ['2030-12-26', 'Boxing Day'], // Thu
];

export const ENGLAND_AND_WALES_BANK_HOLIDAYS: readonly BankHoliday[] = DATES.map(([date, title, notes]) => ({ date, title, notes: notes ?? '' }));
