/**
 * The launch schedule, in the words operators use:
 *
 * - **launch slot**: a wall-clock time in the schedule's time zone at which EventBridge Scheduler fires the
 *   trigger, given as `MINUTES HOURS DAYS` rules (`30 10-14,19-22 SUN-FRI`). Slots are **local time**: a
 *   10:30 slot fires at 10:30 in Europe/London all year, i.e. 10:30 UTC in winter and 09:30 UTC in summer.
 *   On the spring-forward Sunday a slot inside the skipped hour does not exist; on the autumn-back Sunday a
 *   slot inside the repeated hour fires once, at its first occurrence (as EventBridge Scheduler does).
 * - **maintenance window**: a span in which ingest-hbase may be down; nothing launches inside one. Weekly
 *   (`SUN 02:00-06:00`, local wall-clock time) or one-off (`2026-12-24T18:00/2026-12-27T08:00`).
 * - **bank holiday**: a day of the England and Wales calendar (`bank-holidays.ts`), judged on the
 *   Europe/London date of the slot; skipped unless configured otherwise.
 * - **tolerance**: how late after a slot the trigger may still launch (a scheduler fires within a minute;
 *   a retried or delayed invocation a little later).
 */

export interface LaunchSlotRule {
  /** Minutes past the hour, 0–59, ascending. */
  readonly minutes: readonly number[];
  /** Hours, 0–23, ascending. */
  readonly hours: readonly number[];
  /** Weekdays, 0 = Sunday … 6 = Saturday, ascending. */
  readonly days: readonly number[];
  /** The rule as written, normalised (`30 10-14,19-22 SUN-FRI`). */
  readonly text: string;
}

export interface WeeklyWindow {
  readonly kind: 'weekly';
  /** The days the window starts on, 0 = Sunday. */
  readonly days: readonly number[];
  /** Start and end in minutes after local midnight; an end at or before the start runs into the next day. */
  readonly startMinute: number;
  readonly endMinute: number;
  readonly text: string;
}

export interface OneOffWindow {
  readonly kind: 'once';
  /** Half-open `[start, end)`, epoch ms. */
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

export type MaintenanceWindow = WeeklyWindow | OneOffWindow;

export interface ScheduleConfig {
  /** IANA zone the slots and weekly windows are written in, and EventBridge Scheduler evaluates. */
  readonly timeZone: string;
  readonly slots: readonly LaunchSlotRule[];
  readonly maintenanceWindows: readonly MaintenanceWindow[];
  readonly skipBankHolidays: boolean;
  /** Extra holidays (`YYYY-MM-DD`, Europe/London dates), e.g. one announced by proclamation. */
  readonly extraBankHolidays: readonly string[];
  /** How long after a slot a launch is still on schedule, ms. */
  readonly toleranceMs: number;
}

export type RefusalReason = 'outside-schedule' | 'maintenance-window' | 'bank-holiday';

export type LaunchDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly reason: RefusalReason;
      readonly detail: string;
      /** The maintenance window the instant itself falls in (not only its slot): `--force` never overrides it. */
      readonly window?: MaintenanceWindow;
    };

export interface LaunchTime {
  /** `2026-03-30T09:30:00Z` */
  readonly utc: string;
  /** `2026-03-30T10:30:00+01:00`, in the schedule's time zone. */
  readonly local: string;
}

export interface SchedulerExpression {
  /** For EventBridge Scheduler's `ScheduleExpression`, e.g. `cron(30 10-14,19-22 ? * SUN-FRI *)`. */
  readonly expression: string;
  /** For `ScheduleExpressionTimezone`. */
  readonly timezone: string;
}
