/** The launch schedule: when the trigger may launch, and the EventBridge Scheduler expressions that fire it. */
export type {
  LaunchDecision, LaunchSlotRule, LaunchTime, MaintenanceWindow, RefusalReason, ScheduleConfig, SchedulerExpression,
} from './types.js';
export { launchDecision, maintenanceWindowAt, nextLaunches } from './launch-decision.js';
export { parseLaunchSlots, schedulerExpressions } from './launch-slots.js';
export { parseMaintenanceWindows } from './maintenance-windows.js';
export { parseHolidayDates, upcomingBankHolidays, HOLIDAY_TIME_ZONE } from './holidays.js';
export { CALENDAR_FIRST_YEAR, CALENDAR_LAST_YEAR, type BankHoliday } from './bank-holidays.js';
export { CalendarCoverageError } from './errors.js';
export { checkTimeZone, formatLocal, formatUtc } from './zoned-time.js';
