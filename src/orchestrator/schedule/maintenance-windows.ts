import { dayList, DAY_NAMES, compress } from './launch-slots.js';
import type { MaintenanceWindow, OneOffWindow, WeeklyWindow } from './types.js';
import { formatLocal, instantsAt, localDateTime } from './zoned-time.js';

const EXAMPLE = 'e.g. "SUN 02:00-06:00; 2026-12-24T18:00/2026-12-27T08:00"';

/**
 * Parses maintenance windows separated by `;` (`none` for no window):
 * - weekly, local wall-clock time: `SUN 02:00-06:00`, `MON-FRI 22:00-23:30`, `SAT 23:00-01:00` (runs past
 *   midnight into Sunday), `SAT,SUN 00:00-24:00`;
 * - one-off: `START/END`, ISO date-times; without an offset they are local time in the schedule's zone
 *   (`2026-12-24T18:00/2026-12-27T08:00`), with one they are absolute (`2026-11-07T20:00Z/2026-11-08T02:00Z`).
 */
export function parseMaintenanceWindows(text: string, timeZone: string): MaintenanceWindow[] {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'none') return [];
  const parts = trimmed.split(';').map((w) => w.trim()).filter((w) => w !== '');
  if (parts.length === 0) throw new Error(`no maintenance window given; write "none" for none (${EXAMPLE})`);
  return parts.map((part) => (part.includes('/') ? parseOneOff(part, timeZone) : parseWeekly(part)));
}

function minuteOfDay(text: string, what: string, allow24: boolean): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  const minutes = m === null ? NaN : Number(m[1]) * 60 + Number(m[2]);
  if (m === null || Number(m[2]) > 59 || minutes > (allow24 ? 1440 : 1439)) {
    throw new Error(`${what}: "${text}" is not a time of day HH:MM${allow24 ? ' (24:00 allowed as an end)' : ''}`);
  }
  return minutes;
}

function parseWeekly(part: string): WeeklyWindow {
  const m = /^(\S+)\s+(\S+)-(\S+)$/.exec(part);
  if (m === null) throw new Error(`window "${part}" must read DAYS HH:MM-HH:MM or START/END (${EXAMPLE})`);
  const what = `window "${part}"`;
  const days = dayList(m[1] as string, what);
  const startMinute = minuteOfDay(m[2] as string, what, false);
  const endMinute = minuteOfDay(m[3] as string, what, true);
  if (startMinute === endMinute) throw new Error(`${what} starts and ends at the same time`);
  const hhmm = (n: number): string => `${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`;
  const text = `${compress(days, (n) => DAY_NAMES[n] as string)} ${hhmm(startMinute)}-${hhmm(endMinute)}`;
  return { kind: 'weekly', days, startMinute, endMinute, text };
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})?$/;

function instant(text: string, timeZone: string, what: string): number {
  const m = DATE_TIME.exec(text);
  if (m === null) throw new Error(`${what}: "${text}" is not a date-time such as 2026-12-24T18:00 or 2026-12-24T18:00Z`);
  if (m[7] !== undefined) {
    const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7]}`);
    if (Number.isNaN(ms)) throw new Error(`${what}: "${text}" is not a valid date-time`);
    return ms;
  }
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  const [first] = instantsAt(date, Number(m[4]), Number(m[5]), timeZone);
  if (first === undefined) throw new Error(`${what}: "${text}" does not exist in ${timeZone} (the clocks skip it); pick a time outside the skipped hour`);
  return first + Number(m[6] ?? 0) * 1000;
}

function parseOneOff(part: string, timeZone: string): OneOffWindow {
  const what = `window "${part}"`;
  const [from, to, extra] = part.split('/').map((s) => s.trim());
  if (from === undefined || to === undefined || extra !== undefined) throw new Error(`${what} must read START/END (${EXAMPLE})`);
  const start = instant(from, timeZone, what);
  const end = instant(to, timeZone, what);
  if (end <= start) throw new Error(`${what} ends before it starts`);
  return { kind: 'once', start, end, text: `${formatLocal(start, timeZone)}/${formatLocal(end, timeZone)}` };
}

/** Whether the instant falls inside the window (half-open: the end minute itself is outside). */
export function windowContains(window: MaintenanceWindow, ms: number, timeZone: string): boolean {
  if (window.kind === 'once') return ms >= window.start && ms < window.end;
  const local = localDateTime(ms, timeZone);
  const minute = local.hour * 60 + local.minute;
  const { days, startMinute, endMinute } = window;
  if (startMinute < endMinute) return days.includes(local.weekday) && minute >= startMinute && minute < endMinute;
  // Past midnight: the start day's evening, or the next morning.
  return (days.includes(local.weekday) && minute >= startMinute) || (days.includes((local.weekday + 6) % 7) && minute < endMinute);
}

export function windowAt(windows: readonly MaintenanceWindow[], ms: number, timeZone: string): MaintenanceWindow | undefined {
  return windows.find((w) => windowContains(w, ms, timeZone));
}
