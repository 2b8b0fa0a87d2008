/**
 * Time-zone arithmetic with `Intl.DateTimeFormat` only (no time-zone library): wall-clock parts of an
 * instant, and the instants that carry a given wall-clock time — none in a spring-forward gap, two in an
 * autumn overlap.
 */

/** A calendar date: month 1–12. */
export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface LocalDateTime extends LocalDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday … 6 = Saturday, as EventBridge's SUN–SAT. */
  readonly weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone name if the runtime knows it; throws with a readable message otherwise. */
export function checkTimeZone(timeZone: string): string {
  try {
    formatter(timeZone);
    return timeZone;
  } catch {
    throw new Error(`unknown time zone (use an IANA name such as Europe/London or UTC)`);
  }
}

export function weekdayOf(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

export function localDateTime(ms: number, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const date = { year: parts.year as number, month: parts.month as number, day: parts.day as number };
  // Some ICU versions still print midnight as 24 despite h23.
  const hour = (parts.hour as number) % 24;
  return { ...date, hour, minute: parts.minute as number, second: parts.second as number, weekday: weekdayOf(date) };
}

/** Local time minus UTC at this instant, in ms (e.g. +3 600 000 during British Summer Time). */
export function offsetAt(ms: number, timeZone: string): number {
  const l = localDateTime(ms, timeZone);
  const wall = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return wall - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The instants, ascending, at which the zone's clocks show this wall-clock time: none when the clocks skip
 * it (spring forward), two when they show it twice (autumn back), one otherwise.
 */
export function instantsAt(date: LocalDate, hour: number, minute: number, timeZone: string): number[] {
  const wall = Date.UTC(date.year, date.month - 1, date.day, hour, minute);
  // Offsets in force a day either side cover any single transition around this wall time.
  const offsets = new Set([offsetAt(wall - 86_400_000, timeZone), offsetAt(wall, timeZone), offsetAt(wall + 86_400_000, timeZone)]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = wall - offset;
    const l = localDateTime(candidate, timeZone);
    if (l.year === date.year && l.month === date.month && l.day === date.day && l.hour === hour && l.minute === minute) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function compareDates(a: LocalDate, b: LocalDate): number {
  return Date.UTC(a.year, a.month - 1, a.day) - Date.UTC(b.year, b.month - 1, b.day);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2026-12-25` */
export function isoDate(date: LocalDate): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** ISO-8601 with the zone's offset at that instant, e.g. `2026-03-29T10:30:00+01:00`. */
export function formatLocal(ms: number, timeZone: string): string {
  const l = localDateTime(ms, timeZone);
  const offset = Math.round(offsetAt(ms, timeZone) / 60_000);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${isoDate(l)}T${pad(l.hour)}:${pad(l.minute)}:${pad(l.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** ISO-8601 UTC without milliseconds, e.g. `2026-03-29T09:30:00Z`. */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
