import {
  checkTimeZone, parseHolidayDates, parseLaunchSlots, parseMaintenanceWindows, type ScheduleConfig,
} from './index.js';
import { invalid, parsers, setting, type Setting } from '../../config/settings.js';
import { readConfigFile, type ConfigSources } from '../../config/step-config.js';

/**
 * The launch schedule's settings. Launch slots and weekly maintenance windows are **local time** in the
 * schedule's time zone (Europe/London by default): they stay at the same wall-clock time across the clock
 * changes, and the EventBridge Scheduler expressions carry the same zone (`ScheduleExpressionTimezone`).
 */
export const SCHEDULE_SETTINGS = {
  timeZone: setting('scheduleTimeZone', 'INGEST_SCHEDULE_TIMEZONE', 'IANA time zone of the launch slots and maintenance windows, e.g. Europe/London', (t) => checkTimeZone(parsers.text(t))),
  slots: setting('launchSlots', 'INGEST_LAUNCH_SLOTS', 'launch slots in local time, "MINUTES HOURS DAYS" rules joined by ";", e.g. "30 10-14,19-22 SUN-FRI; 0 19-22 SAT"', parseLaunchSlots, ['array']),
  maintenanceWindows: setting('maintenanceWindows', 'INGEST_MAINTENANCE_WINDOWS', 'maintenance windows joined by ";": weekly local "SUN 02:00-06:00" or one-off "2026-12-24T18:00/2026-12-27T08:00"; "none" for none', (t) => t, ['array']),
  skipBankHolidays: setting('skipBankHolidays', 'INGEST_SKIP_BANK_HOLIDAYS', 'whether England and Wales bank holidays are skipped: true or false', parseBoolean, ['boolean']),
  extraBankHolidays: setting('extraBankHolidays', 'INGEST_EXTRA_BANK_HOLIDAYS', 'extra holidays to skip, YYYY-MM-DD joined by ",", e.g. a newly proclaimed one; "none" for none', parseHolidayDates, ['array']),
  toleranceMs: setting('launchTolerance', 'INGEST_LAUNCH_TOLERANCE', 'how late after a slot a launch is still on schedule, e.g. 10m', parseTolerance),
} satisfies Record<keyof ScheduleConfig, Setting<unknown>>;

export const SCHEDULE_DEFAULTS: Readonly<Record<keyof ScheduleConfig, string>> = {
  timeZone: 'Europe/London',
  // DESIGN.md §3.7's production hours, read as London time (in winter they are the same as its UTC crons).
  slots: '30 10-14,19-22 SUN-FRI; 0 19-22 SAT',
  maintenanceWindows: 'SUN 02:00-06:00',
  skipBankHolidays: 'true',
  extraBankHolidays: 'none',
  toleranceMs: '10m',
};

function parseTolerance(text: string): number {
  const ms = parsers.duration(text);
  // The scheduler fires within a minute of the slot; beyond an hour a launch would overlap the next slot.
  if (ms < 60_000 || ms > 3_600_000) throw new Error('must be between 1m and 1h');
  return ms;
}

function parseBoolean(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['true', 'yes', '1'].includes(t)) return true;
  if (['false', 'no', '0'].includes(t)) return false;
  throw new Error('must be true or false');
}

/** Where a setting's value came from, and the text: flag > environment > config file > default. */
function resolve(s: Setting<unknown>, name: keyof ScheduleConfig, sources: ConfigSources, file: Record<string, unknown>): [string, string] {
  const env = sources.env ?? process.env;
  const fromFile = file[s.key];
  const candidates: [string, string | undefined][] = [
    [`flag ${s.flag}`, sources.flags?.[s.key]],
    [`environment ${s.env}`, env[s.env]],
    // Lists may be JSON arrays in the config file.
    ['config file', fromFile === undefined ? undefined : Array.isArray(fromFile) ? fromFile.join(name === 'extraBankHolidays' ? ',' : '; ') : String(fromFile)],
    ['default', SCHEDULE_DEFAULTS[name]],
  ];
  return candidates.find(([, v]) => v !== undefined && v !== '') as [string, string];
}

/** The validated, frozen schedule; errors name the setting, where its value came from, and the fix. */
export function loadScheduleConfig(sources: ConfigSources = {}): ScheduleConfig {
  const env = sources.env ?? process.env;
  const file = readConfigFile(sources.flags?.config ?? env.INGEST_REPLICA_CONFIG);
  const parse = <K extends keyof ScheduleConfig>(name: K, parser: (text: string) => ScheduleConfig[K]): ScheduleConfig[K] => {
    const s = SCHEDULE_SETTINGS[name];
    const [source, raw] = resolve(s, name, sources, file);
    try {
      return parser(raw);
    } catch (error) {
      throw invalid(s, source, raw, (error as Error).message);
    }
  };
  const timeZone = parse('timeZone', SCHEDULE_SETTINGS.timeZone.parse);
  return Object.freeze({
    timeZone,
    slots: Object.freeze(parse('slots', SCHEDULE_SETTINGS.slots.parse)),
    // One-off windows without an offset are local time: they are read once the zone is known.
    maintenanceWindows: Object.freeze(parse('maintenanceWindows', (t) => parseMaintenanceWindows(t, timeZone))),
    skipBankHolidays: parse('skipBankHolidays', SCHEDULE_SETTINGS.skipBankHolidays.parse),
    extraBankHolidays: Object.freeze(parse('extraBankHolidays', SCHEDULE_SETTINGS.extraBankHolidays.parse)),
    toleranceMs: parse('toleranceMs', SCHEDULE_SETTINGS.toleranceMs.parse),
  });
}
