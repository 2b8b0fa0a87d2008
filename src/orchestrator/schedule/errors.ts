import { ConfigError } from '../../shared/errors.js';

/**
 * A date outside the years the offline bank-holiday calendar lists: the schedule cannot tell whether it is
 * a holiday, so it refuses to guess (exit 2) rather than launch on one or skip a working day.
 */
export class CalendarCoverageError extends ConfigError {
  constructor(date: string, firstYear: number, lastYear: number) {
    super(
      `the bank-holiday calendar covers ${firstYear}–${lastYear} only; ${date} is outside it. ` +
        'Fix: add that year\'s England and Wales dates (gov.uk/bank-holidays.json) to ' +
        'src/orchestrator/schedule/bank-holidays.ts, or set INGEST_SKIP_BANK_HOLIDAYS=false.',
      { context: { date } },
    );
  }
}
