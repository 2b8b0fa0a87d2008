import { skippedHolidayAt } from './holidays.js';
import { slotsOn } from './launch-slots.js';
import { windowAt } from './maintenance-windows.js';
import type { LaunchDecision, LaunchTime, MaintenanceWindow, ScheduleConfig } from './types.js';
import { addDays, compareDates, formatLocal, formatUtc, localDateTime, type LocalDate } from './zoned-time.js';

/** How far ahead `nextLaunches` looks before it concludes that no slot will ever be allowed. */
const HORIZON_DAYS = 800;

function instant(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  if (!Number.isFinite(ms)) throw new TypeError('launch time is not a valid date');
  return ms;
}

/** Raw slots (before windows and holidays) in `[from, to]`, ascending. */
function slotsBetween(from: number, to: number, config: ScheduleConfig): number[] {
  const slots: number[] = [];
  // A slot lies on its own local date, so the dates either side of the range cover every candidate.
  const last = addDays(localDateTime(to, config.timeZone), 1);
  for (let date = addDays(localDateTime(from, config.timeZone), -1); compareDates(date, last) <= 0; date = addDays(date, 1)) {
    for (const slot of slotsOn(date, config.slots, config.timeZone)) if (slot >= from && slot <= to) slots.push(slot);
  }
  return slots;
}

/** Why a slot would not launch, or undefined when it would. */
function slotRefusal(slot: number, config: ScheduleConfig): LaunchDecision | undefined {
  const window = windowAt(config.maintenanceWindows, slot, config.timeZone);
  if (window !== undefined) {
    return { allowed: false, reason: 'maintenance-window', detail: `the launch slot at ${formatLocal(slot, config.timeZone)} falls in maintenance window ${window.text} (${config.timeZone})` };
  }
  const holiday = skippedHolidayAt(slot, config);
  if (holiday !== undefined) {
    return { allowed: false, reason: 'bank-holiday', detail: `${holiday.date} is a bank holiday in England and Wales (${holiday.title}${holiday.notes ? `, ${holiday.notes.toLowerCase()}` : ''}); bank holidays are skipped` };
  }
  return undefined;
}

/** The maintenance window the instant falls in, if any: the trigger honours it even when forced (`launchDecision` names it). */
export function maintenanceWindowAt(at: Date | number, config: ScheduleConfig): MaintenanceWindow | undefined {
  return windowAt(config.maintenanceWindows, instant(at), config.timeZone);
}

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

/**
 * Whether a launch at `at` is on schedule: within the tolerance after a launch slot, not inside a
 * maintenance window, and not on a skipped bank holiday. Refusals name the reason and the rule that
 * refused. A maintenance window refuses whatever else holds, so a forced launch can still honour it.
 */
export function launchDecision(at: Date | number, config: ScheduleConfig): LaunchDecision {
  const ms = instant(at);
  const window = maintenanceWindowAt(ms, config);
  if (window !== undefined) {
    return { allowed: false, reason: 'maintenance-window', detail: `${formatLocal(ms, config.timeZone)} is inside maintenance window ${window.text} (${config.timeZone})`, window };
  }
  const candidates = slotsBetween(ms - config.toleranceMs, ms, config).reverse();
  if (candidates.length === 0) {
    const [next] = slotsBetween(ms, ms + 8 * 86_400_000, config);
    return {
      allowed: false,
      reason: 'outside-schedule',
      detail: `no launch slot in the ${minutes(config.toleranceMs)} up to ${formatLocal(ms, config.timeZone)}` +
        (next === undefined ? '' : `; the next slot is ${formatLocal(next, config.timeZone)}`),
    };
  }
  let refusal: LaunchDecision | undefined;
  for (const slot of candidates) {
    const why = slotRefusal(slot, config);
    if (why === undefined) return { allowed: true };
    refusal ??= why;
  }
  return refusal as LaunchDecision;
}

/** The next `n` launches at or after `from`: slots outside maintenance windows and skipped holidays. */
export function nextLaunches(from: Date | number, n: number, config: ScheduleConfig): LaunchTime[] {
  const start = instant(from);
  const launches: LaunchTime[] = [];
  let date: LocalDate = localDateTime(start, config.timeZone);
  for (let day = 0; day < HORIZON_DAYS && launches.length < n; day += 1, date = addDays(date, 1)) {
    for (const slot of slotsOn(date, config.slots, config.timeZone)) {
      if (slot < start || launches.length >= n || slotRefusal(slot, config) !== undefined) continue;
      launches.push({ utc: formatUtc(slot), local: formatLocal(slot, config.timeZone) });
    }
  }
  return launches;
}
