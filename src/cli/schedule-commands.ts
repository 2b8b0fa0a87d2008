import { Option, type Command } from 'commander';
import { loadScheduleConfig, SCHEDULE_DEFAULTS, SCHEDULE_SETTINGS } from '../orchestrator/schedule/schedule-config.js';
import {
  formatLocal, launchDecision, nextLaunches, schedulerExpressions, upcomingBankHolidays, type ScheduleConfig,
} from '../orchestrator/schedule/index.js';
import { ConfigError } from '../shared/errors.js';
import { parseInstant } from '../shared/time.js';
import { runCommand } from './command.js';

/** Adds one flag per schedule setting (see `src/orchestrator/schedule/schedule-config.ts`), plus `--config <file>`. */
export function withScheduleSettings(command: Command): Command {
  if (!command.options.some((o) => o.long === '--config')) {
    command.addOption(new Option('--config <file>', 'JSON config file of settings (env INGEST_REPLICA_CONFIG)'));
  }
  for (const [name, s] of Object.entries(SCHEDULE_SETTINGS) as [keyof ScheduleConfig, (typeof SCHEDULE_SETTINGS)[keyof ScheduleConfig]][]) {
    if (command.options.some((o) => o.long === s.flag)) continue;
    const unit = name === 'toleranceMs' ? '; a duration with a unit, e.g. 10m' : '';
    command.addOption(new Option(`${s.flag} <value>`, `${s.description} (env ${s.env}${unit}; default: ${SCHEDULE_DEFAULTS[name]})`));
  }
  return command;
}

/** The validated schedule from flags, environment and config file. */
export function scheduleConfigFrom(flags: Record<string, unknown>): ScheduleConfig {
  const text = Object.fromEntries(Object.entries(flags).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  return loadScheduleConfig({ flags: text });
}

function instantFlag(value: unknown, flag: string): number {
  if (value === undefined || value === 'now') return Date.now();
  const ms = parseInstant(String(value));
  if (ms === undefined) throw new ConfigError(`${flag} ${JSON.stringify(value)} is not a time. Fix: pass an ISO-8601 time such as 2026-03-29T09:30Z, epoch milliseconds, or now.`);
  return ms;
}

function count(value: unknown): number {
  const n = Number(value ?? 10);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ConfigError(`--next ${JSON.stringify(value)} is not a count. Fix: pass a whole number from 1 to 1000.`);
  return n;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `schedule`: when the trigger will launch, the EventBridge Scheduler expressions, windows and holidays. */
export function registerScheduleCommands(program: Command): void {
  withScheduleSettings(
    program
      .command('schedule')
      .description('next launch times (Europe/London and UTC), EventBridge Scheduler expressions, maintenance windows, upcoming bank holidays')
      .option('--next <n>', 'launch times to list', '10')
      .option('--from <time>', 'list from this time (ISO-8601 or epoch ms; default now)')
      .option('--check <time>', 'also say whether a launch at this time is on schedule, and why not')
      .option('--json', 'print JSON'),
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const config = scheduleConfigFrom(flags);
      const from = instantFlag(flags.from, '--from');
      const report = {
        timeZone: config.timeZone,
        skipBankHolidays: config.skipBankHolidays,
        toleranceMinutes: config.toleranceMs / 60_000,
        schedulerExpressions: schedulerExpressions(config),
        nextLaunches: nextLaunches(from, count(flags.next), config),
        maintenanceWindows: config.maintenanceWindows.map((w) => w.text),
        upcomingBankHolidays: upcomingBankHolidays(from, 8, config),
        ...(flags.check === undefined ? {} : { check: { at: formatLocal(instantFlag(flags.check, '--check'), config.timeZone), ...launchDecision(instantFlag(flags.check, '--check'), config) } }),
      };
      if (flags.json === true) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      const lines = [
        `Schedule in ${config.timeZone} (launch slots are local time); bank holidays ${config.skipBankHolidays ? 'skipped' : 'not skipped'}; launches up to ${report.toleranceMinutes} min after a slot`,
        '',
        `EventBridge Scheduler (ScheduleExpressionTimezone ${config.timeZone}):`,
        ...report.schedulerExpressions.map((e) => `  ${e.expression}`),
        '',
        `Next ${report.nextLaunches.length} launches:`,
        `  ${config.timeZone.padEnd(27)} UTC`,
        ...report.nextLaunches.map((l) => `  ${l.local.padEnd(27)} ${l.utc}`),
        '',
        `Maintenance windows (${config.timeZone}; the trigger refuses inside them):`,
        ...(report.maintenanceWindows.length === 0 ? ['  (none)'] : report.maintenanceWindows.map((w) => `  ${w}`)),
        '',
        'Upcoming bank holidays (England and Wales):',
        ...(report.upcomingBankHolidays.length === 0 ? ['  (none in the calendar)'] : report.upcomingBankHolidays.map((h) =>
          `  ${h.date} ${DAYS[new Date(`${h.date}T12:00Z`).getUTCDay()]}  ${h.title}${h.notes ? ` (${h.notes.toLowerCase()})` : ''}`)),
      ];
      if (report.check !== undefined) {
        const c = report.check;
        lines.push('', `A launch at ${c.at}: ${c.allowed ? 'on schedule' : `refused (${c.reason}): ${c.detail}`}`);
      }
      console.log(lines.join('\n'));
    }),
  );
}
