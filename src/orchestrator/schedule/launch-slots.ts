import type { LaunchSlotRule, SchedulerExpression } from './types.js';
import { instantsAt, weekdayOf, type LocalDate } from './zoned-time.js';

export const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const SLOT_EXAMPLE = 'e.g. "30 10-14,19-22 SUN-FRI; 0 19-22 SAT"';

/**
 * Parses launch slot rules: `MINUTES HOURS DAYS` separated by `;`, the first three fields of an EventBridge
 * cron expression in the schedule's time zone. MINUTES `30` or `0,30`; HOURS `10-14,19-22`; DAYS `SUN-FRI`,
 * `SAT`, `MON,WED` or `*`.
 */
export function parseLaunchSlots(text: string): LaunchSlotRule[] {
  const rules = text.split(';').map((r) => r.trim()).filter((r) => r !== '');
  if (rules.length === 0) throw new Error(`no launch slots given (${SLOT_EXAMPLE})`);
  return rules.map((rule) => {
    const fields = rule.split(/\s+/);
    if (fields.length !== 3) throw new Error(`slot rule "${rule}" must have three fields, MINUTES HOURS DAYS (${SLOT_EXAMPLE})`);
    const [m, h, d] = fields as [string, string, string];
    const minutes = numberList(m, 0, 59, `minutes "${m}" in "${rule}"`);
    const hours = numberList(h, 0, 23, `hours "${h}" in "${rule}"`);
    const days = dayList(d, `days "${d}" in "${rule}"`);
    return { minutes, hours, days, text: `${minutes.join(',')} ${compress(hours, String)} ${compress(days, (n) => DAY_NAMES[n] as string)}` };
  });
}

function numberList(text: string, min: number, max: number, what: string): number[] {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const range = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(part);
    if (range === null) throw new Error(`${what}: "${part}" is not a number or a range such as 10-14`);
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    if (from < min || to > max || from > to) throw new Error(`${what}: "${part}" must lie within ${min}-${max}, low to high`);
    for (let v = from; v <= to; v += 1) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

function dayIndex(name: string, what: string): number {
  const i = DAY_NAMES.indexOf(name.toUpperCase() as (typeof DAY_NAMES)[number]);
  if (i < 0) throw new Error(`${what}: "${name}" is not a day (SUN MON TUE WED THU FRI SAT)`);
  return i;
}

/** `SUN-FRI`, `MON,WED`, `SAT-SUN` is refused (write `SAT,SUN`), `*` = every day. */
export function dayList(text: string, what: string): number[] {
  if (text === '*') return [0, 1, 2, 3, 4, 5, 6];
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [a, b, extra] = part.split('-');
    if (a === undefined || a === '' || extra !== undefined) throw new Error(`${what}: "${part}" is not a day or a range such as SUN-FRI`);
    const from = dayIndex(a, what);
    const to = b === undefined ? from : dayIndex(b, what);
    if (from > to) throw new Error(`${what}: range "${part}" runs backwards (the week starts on SUN); write it as two parts, e.g. SAT,SUN`);
    for (let v = from; v <= to; v += 1) values.add(v);
  }
  return [...values].sort((x, y) => x - y);
}

/** `[10,11,12,19]` → `10-12,19`. */
export function compress(values: readonly number[], name: (n: number) => string): string {
  const parts: string[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && (values[j + 1] as number) === (values[j] as number) + 1) j += 1;
    const from = values[i] as number;
    const to = values[j] as number;
    parts.push(from === to ? name(from) : `${name(from)}-${name(to)}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The EventBridge Scheduler cron expression of a rule (evaluated in the schedule's time zone). */
export function cronExpression(rule: LaunchSlotRule): string {
  return `cron(${rule.minutes.join(',')} ${compress(rule.hours, String)} ? * ${compress(rule.days, (n) => DAY_NAMES[n] as string)} *)`;
}

export function schedulerExpressions(config: { timeZone: string; slots: readonly LaunchSlotRule[] }): SchedulerExpression[] {
  return config.slots.map((rule) => ({ expression: cronExpression(rule), timezone: config.timeZone }));
}

/**
 * The slot instants on one local date, ascending. A wall time the clocks skip has no slot; one they show
 * twice fires once, at its first occurrence — what EventBridge Scheduler does across clock changes.
 */
export function slotsOn(date: LocalDate, rules: readonly LaunchSlotRule[], timeZone: string): number[] {
  const weekday = weekdayOf(date);
  const slots = new Set<number>();
  for (const rule of rules) {
    if (!rule.days.includes(weekday)) continue;
    for (const hour of rule.hours) {
      for (const minute of rule.minutes) {
        const [first] = instantsAt(date, hour, minute, timeZone);
        if (first !== undefined) slots.add(first);
      }
    }
  }
  return [...slots].sort((a, b) => a - b);
}
