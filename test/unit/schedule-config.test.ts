import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScheduleConfig } from '../../src/orchestrator/schedule/schedule-config.js';
import { ConfigError } from '../../src/shared/errors.js';

const load = (env: Record<string, string>, flags: Record<string, string> = {}) => loadScheduleConfig({ env, flags });

function configError(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadScheduleConfig', () => {
  it('defaults to the DESIGN.md hours in London time, a Sunday night window, bank holidays skipped, 10 minutes tolerance', () => {
    const config = load({});
    expect(config.timeZone).toBe('Europe/London');
    expect(config.slots.map((s) => s.text)).toEqual(['30 10-14,19-22 SUN-FRI', '0 19-22 SAT']);
    expect(config.maintenanceWindows.map((w) => w.text)).toEqual(['SUN 02:00-06:00']);
    expect(config.skipBankHolidays).toBe(true);
    expect(config.extraBankHolidays).toEqual([]);
    expect(config.toleranceMs).toBe(600_000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes a flag over the environment over the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schedule-config-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ launchSlots: '0 9 MON', maintenanceWindows: ['SUN 02:00-06:00', 'WED 01:00-02:00'], launchTolerance: '5m' }));
    const fromFile = load({ INGEST_REPLICA_CONFIG: file });
    expect(fromFile.slots.map((s) => s.text)).toEqual(['0 9 MON']);
    expect(fromFile.maintenanceWindows.map((w) => w.text)).toEqual(['SUN 02:00-06:00', 'WED 01:00-02:00']);
    expect(fromFile.toleranceMs).toBe(300_000);
    expect(load({ INGEST_REPLICA_CONFIG: file, INGEST_LAUNCH_SLOTS: '0 10 TUE' }).slots.map((s) => s.text)).toEqual(['0 10 TUE']);
    expect(load({ INGEST_REPLICA_CONFIG: file, INGEST_LAUNCH_SLOTS: '0 10 TUE' }, { launchSlots: '15,45 8-9,11 MON-WED,FRI' }).slots[0])
      .toMatchObject({ minutes: [15, 45], hours: [8, 9, 11], days: [1, 2, 3, 5], text: '15,45 8-9,11 MON-WED,FRI' });
  });

  it.each([
    [{ INGEST_LAUNCH_SLOTS: '30 25 MON' }, 'launchSlots', 'INGEST_LAUNCH_SLOTS', 'must lie within 0-23'],
    [{ INGEST_LAUNCH_SLOTS: '30 10-14' }, 'launchSlots', '--launch-slots', 'three fields, MINUTES HOURS DAYS'],
    [{ INGEST_LAUNCH_SLOTS: '30 10 FRI-MON' }, 'launchSlots', 'INGEST_LAUNCH_SLOTS', 'runs backwards'],
    [{ INGEST_LAUNCH_SLOTS: '30 10 MOM' }, 'launchSlots', 'INGEST_LAUNCH_SLOTS', '"MOM" is not a day'],
    [{ INGEST_MAINTENANCE_WINDOWS: 'SUN 2:00-06:00' }, 'maintenanceWindows', 'INGEST_MAINTENANCE_WINDOWS', 'is not a time of day HH:MM'],
    [{ INGEST_MAINTENANCE_WINDOWS: 'SUN 02:00-02:00' }, 'maintenanceWindows', 'INGEST_MAINTENANCE_WINDOWS', 'starts and ends at the same time'],
    [{ INGEST_MAINTENANCE_WINDOWS: '2026-12-27T08:00/2026-12-24T18:00' }, 'maintenanceWindows', 'INGEST_MAINTENANCE_WINDOWS', 'ends before it starts'],
    [{ INGEST_MAINTENANCE_WINDOWS: '2026-03-29T01:30/2026-03-29T04:00' }, 'maintenanceWindows', 'INGEST_MAINTENANCE_WINDOWS', 'does not exist in Europe/London'],
    [{ INGEST_SCHEDULE_TIMEZONE: 'Europe/Londres' }, 'scheduleTimeZone', 'INGEST_SCHEDULE_TIMEZONE', 'unknown time zone'],
    [{ INGEST_SKIP_BANK_HOLIDAYS: 'sometimes' }, 'skipBankHolidays', 'INGEST_SKIP_BANK_HOLIDAYS', 'must be true or false'],
    [{ INGEST_EXTRA_BANK_HOLIDAYS: '2026-02-30' }, 'extraBankHolidays', 'INGEST_EXTRA_BANK_HOLIDAYS', 'is not a date YYYY-MM-DD'],
    [{ INGEST_LAUNCH_TOLERANCE: '10s' }, 'launchTolerance', 'INGEST_LAUNCH_TOLERANCE', 'between 1m and 1h'],
  ])('refuses %j, naming the setting, its source and the fix', (env, key, fix, reason) => {
    const error = configError(env);
    expect(error.message).toContain(`invalid ${key} from environment`);
    expect(error.message).toContain(fix);
    expect(error.message).toContain(reason);
  });

  it('reads one-off windows without an offset as local time in the configured zone', () => {
    const [window] = load({ INGEST_MAINTENANCE_WINDOWS: '2026-07-04T19:30/2026-07-05T11:00' }).maintenanceWindows;
    expect(window).toMatchObject({ kind: 'once', start: Date.parse('2026-07-04T18:30Z'), end: Date.parse('2026-07-05T10:00Z') });
    const [utc] = load({ INGEST_SCHEDULE_TIMEZONE: 'UTC', INGEST_MAINTENANCE_WINDOWS: '2026-07-04T19:30/2026-07-05T11:00' }).maintenanceWindows;
    expect(utc).toMatchObject({ start: Date.parse('2026-07-04T19:30Z') });
  });
});
