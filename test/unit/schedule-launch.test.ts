import { describe, expect, it } from 'vitest';
import { loadScheduleConfig } from '../../src/orchestrator/schedule/schedule-config.js';
import {
  CalendarCoverageError, launchDecision, maintenanceWindowAt, nextLaunches, schedulerExpressions, type ScheduleConfig,
} from '../../src/orchestrator/schedule/index.js';

/** The default schedule, with some settings replaced as an operator would through the environment. */
const schedule = (env: Record<string, string> = {}): ScheduleConfig => loadScheduleConfig({ env });
const at = (iso: string): number => Date.parse(iso);
const utcTimes = (from: string, n: number, config = schedule()): string[] => nextLaunches(at(from), n, config).map((l) => l.utc);

describe('launch slots are London wall-clock times', () => {
  it('fires the EventBridge Scheduler crons of DESIGN.md §3.7 in the Europe/London zone', () => {
    expect(schedulerExpressions(schedule())).toEqual([
      { expression: 'cron(30 10-14,19-22 ? * SUN-FRI *)', timezone: 'Europe/London' },
      { expression: 'cron(0 19-22 ? * SAT *)', timezone: 'Europe/London' },
    ]);
  });

  it('keeps the same local times across the spring change of 29 March 2026 while UTC moves an hour earlier', () => {
    const friday = nextLaunches(at('2026-03-27T00:00Z'), 1, schedule())[0];
    const monday = nextLaunches(at('2026-03-30T00:00Z'), 1, schedule())[0];
    expect(friday).toEqual({ utc: '2026-03-27T10:30:00Z', local: '2026-03-27T10:30:00+00:00' });
    expect(monday).toEqual({ utc: '2026-03-30T09:30:00Z', local: '2026-03-30T10:30:00+01:00' });
    // The change day itself (a Sunday) runs on summer time from its first slot; its window ends at 06:00 BST.
    expect(utcTimes('2026-03-28T22:00Z', 3)).toEqual(['2026-03-28T22:00:00Z', '2026-03-29T09:30:00Z', '2026-03-29T10:30:00Z']);
    expect(launchDecision(at('2026-03-29T09:30Z'), schedule())).toEqual({ allowed: true });
    expect(launchDecision(at('2026-03-29T10:30Z'), schedule())).toEqual({ allowed: true });
    expect(launchDecision(at('2026-03-30T10:30:00Z'), schedule())).toEqual({ allowed: true }); // 11:30 BST
    expect(launchDecision(at('2026-03-30T09:00Z'), schedule())).toMatchObject({ allowed: false, reason: 'outside-schedule' });
  });

  it('keeps the same local times across the autumn change of 25 October 2026 while UTC moves an hour later', () => {
    expect(utcTimes('2026-10-23T00:00Z', 1)).toEqual(['2026-10-23T09:30:00Z']);
    expect(utcTimes('2026-10-24T00:00Z', 1)).toEqual(['2026-10-24T18:00:00Z']); // Saturday 19:00 BST
    expect(utcTimes('2026-10-25T00:00Z', 2)).toEqual(['2026-10-25T10:30:00Z', '2026-10-25T11:30:00Z']);
    expect(launchDecision(at('2026-10-25T09:30Z'), schedule())).toMatchObject({ allowed: false, reason: 'outside-schedule' });
    expect(launchDecision(at('2026-10-26T10:35Z'), schedule())).toEqual({ allowed: true });
  });

  it('handles the 2025 changes (30 March and 26 October) the same way', () => {
    expect(utcTimes('2025-03-28T00:00Z', 1)).toEqual(['2025-03-28T10:30:00Z']);
    expect(utcTimes('2025-03-31T00:00Z', 1)).toEqual(['2025-03-31T09:30:00Z']);
    expect(utcTimes('2025-10-24T00:00Z', 1)).toEqual(['2025-10-24T09:30:00Z']);
    expect(utcTimes('2025-10-27T00:00Z', 1)).toEqual(['2025-10-27T10:30:00Z']);
  });

  it('drops a slot the spring change skips and fires a repeated autumn slot once, at its first occurrence', () => {
    const night = schedule({ INGEST_LAUNCH_SLOTS: '30 1 SUN', INGEST_MAINTENANCE_WINDOWS: 'none' });
    // 01:30 does not exist in London on 29 March 2026: the next 01:30 is a week later, on summer time.
    expect(utcTimes('2026-03-29T00:00Z', 1, night)).toEqual(['2026-04-05T00:30:00Z']);
    expect(launchDecision(at('2026-03-29T01:35Z'), night)).toMatchObject({ allowed: false, reason: 'outside-schedule' });
    // 01:30 happens twice on 25 October 2026 (BST, then GMT): one launch, at the first.
    expect(utcTimes('2026-10-25T00:00Z', 2, night)).toEqual(['2026-10-25T00:30:00Z', '2026-11-01T01:30:00Z']);
    expect(launchDecision(at('2026-10-25T00:30Z'), night)).toEqual({ allowed: true });
    expect(launchDecision(at('2026-10-25T01:30Z'), night)).toMatchObject({ allowed: false, reason: 'outside-schedule' });
  });

  it('can be written in UTC instead, giving DESIGN.md\'s UTC crons that move in local time', () => {
    const utc = schedule({ INGEST_SCHEDULE_TIMEZONE: 'UTC' });
    expect(schedulerExpressions(utc)[0]).toEqual({ expression: 'cron(30 10-14,19-22 ? * SUN-FRI *)', timezone: 'UTC' });
    expect(utcTimes('2026-03-30T00:00Z', 1, utc)).toEqual(['2026-03-30T10:30:00Z']);
  });
});

describe('Saturday slots', () => {
  it('launch on the hour in the evening only', () => {
    expect(utcTimes('2026-01-10T00:00Z', 5)).toEqual([
      '2026-01-10T19:00:00Z', '2026-01-10T20:00:00Z', '2026-01-10T21:00:00Z', '2026-01-10T22:00:00Z', '2026-01-11T10:30:00Z',
    ]);
    expect(launchDecision(at('2026-01-10T19:00Z'), schedule())).toEqual({ allowed: true });
    expect(launchDecision(at('2026-01-10T10:30Z'), schedule())).toMatchObject({ allowed: false, reason: 'outside-schedule' });
    expect(launchDecision(at('2026-01-10T19:30Z'), schedule())).toMatchObject({ allowed: false, reason: 'outside-schedule' });
  });
});

describe('tolerance after a slot', () => {
  const slot = at('2026-01-12T10:30Z');
  it('allows a launch from the slot up to the tolerance after it, and nothing before or beyond', () => {
    expect(launchDecision(slot, schedule())).toEqual({ allowed: true });
    expect(launchDecision(new Date(slot + 600_000), schedule())).toEqual({ allowed: true });
    expect(launchDecision(slot + 600_001, schedule())).toMatchObject({ allowed: false, reason: 'outside-schedule' });
    const early = launchDecision(slot - 1, schedule());
    expect(early).toMatchObject({ allowed: false, reason: 'outside-schedule' });
    expect(early.allowed === false && early.detail).toContain('the next slot is 2026-01-12T10:30:00+00:00');
  });

  it('follows the configured tolerance', () => {
    expect(launchDecision(slot + 1_200_000, schedule({ INGEST_LAUNCH_TOLERANCE: '20m' }))).toEqual({ allowed: true });
  });

  it('agrees with nextLaunches: every listed launch is allowed at its time', () => {
    const config = schedule();
    for (const l of nextLaunches(at('2026-03-20T00:00Z'), 150, config)) expect(launchDecision(at(l.utc), config), l.utc).toEqual({ allowed: true });
  });
});

describe('maintenance windows', () => {
  it('places the weekly window in local time, also on both clock-change Sundays', () => {
    const config = schedule();
    expect(maintenanceWindowAt(at('2026-01-11T01:59:59Z'), config)).toBeUndefined();
    expect(maintenanceWindowAt(at('2026-01-11T02:00Z'), config)?.text).toBe('SUN 02:00-06:00');
    expect(maintenanceWindowAt(at('2026-01-11T05:59:59Z'), config)).toBeDefined();
    expect(maintenanceWindowAt(at('2026-01-11T06:00Z'), config)).toBeUndefined();
    // 29 March 2026: 02:00 BST is 01:00 UTC. 25 October 2026: 02:00 GMT is 02:00 UTC, after the repeated hour.
    expect(maintenanceWindowAt(at('2026-03-29T01:00Z'), config)).toBeDefined();
    expect(maintenanceWindowAt(at('2026-03-29T05:00Z'), config)).toBeUndefined();
    expect(maintenanceWindowAt(at('2026-10-25T01:59Z'), config)).toBeUndefined();
    expect(maintenanceWindowAt(at('2026-10-25T05:59Z'), config)).toBeDefined();
  });

  it('refuses at its start and inside it, and allows at its end', () => {
    const config = schedule({ INGEST_MAINTENANCE_WINDOWS: 'MON 10:30-11:30' });
    const refused = launchDecision(at('2026-01-12T10:30Z'), config);
    expect(refused).toMatchObject({ allowed: false, reason: 'maintenance-window' });
    expect(refused.allowed === false && refused.detail).toContain('MON 10:30-11:30 (Europe/London)');
    expect(launchDecision(at('2026-01-12T11:29:59Z'), config)).toMatchObject({ allowed: false, reason: 'maintenance-window' });
    expect(launchDecision(at('2026-01-12T11:30Z'), config)).toEqual({ allowed: true });
    expect(utcTimes('2026-01-12T00:00Z', 1, config)).toEqual(['2026-01-12T11:30:00Z']);
  });

  it('refuses a late launch whose slot fell inside a window that has since ended', () => {
    const config = schedule({ INGEST_MAINTENANCE_WINDOWS: 'MON 10:00-10:35' });
    expect(launchDecision(at('2026-01-12T10:36Z'), config)).toMatchObject({ allowed: false, reason: 'maintenance-window' });
  });

  it('runs a weekly window past midnight into the next day', () => {
    const config = schedule({ INGEST_MAINTENANCE_WINDOWS: 'SAT 21:30-01:00' });
    expect(launchDecision(at('2026-01-10T21:00Z'), config)).toEqual({ allowed: true });
    expect(launchDecision(at('2026-01-10T22:00Z'), config)).toMatchObject({ allowed: false, reason: 'maintenance-window' });
    expect(maintenanceWindowAt(at('2026-01-11T00:59Z'), config)).toBeDefined();
    expect(maintenanceWindowAt(at('2026-01-11T01:00Z'), config)).toBeUndefined();
    expect(maintenanceWindowAt(at('2026-01-09T23:00Z'), config)).toBeUndefined();
  });

  it('honours one-off windows in local time and in absolute time', () => {
    const local = schedule({ INGEST_MAINTENANCE_WINDOWS: '2026-07-04T19:30/2026-07-05T11:00' });
    // Saturday 4 July 2026 is summer time: 19:00 BST launches, 20:00 BST is inside; Sunday 11:30 BST launches again.
    expect(utcTimes('2026-07-04T00:00Z', 2, local)).toEqual(['2026-07-04T18:00:00Z', '2026-07-05T10:30:00Z']);
    const absolute = schedule({ INGEST_MAINTENANCE_WINDOWS: 'SUN 02:00-06:00; 2026-07-04T18:30Z/2026-07-05T10:00Z' });
    expect(launchDecision(at('2026-07-04T19:00Z'), absolute)).toMatchObject({ allowed: false, reason: 'maintenance-window' });
    expect(launchDecision(at('2026-07-05T09:30Z'), absolute)).toMatchObject({ allowed: false, reason: 'maintenance-window' });
    expect(launchDecision(at('2026-07-05T10:30Z'), absolute)).toEqual({ allowed: true });
  });

  it('can be switched off', () => {
    expect(schedule({ INGEST_MAINTENANCE_WINDOWS: 'none' }).maintenanceWindows).toEqual([]);
  });
});

describe('bank holidays', () => {
  it('skips Christmas Day 2026 (a Friday) and its substitute Boxing Day, Monday 28 December', () => {
    const christmas = launchDecision(at('2026-12-25T10:35Z'), schedule());
    expect(christmas).toMatchObject({ allowed: false, reason: 'bank-holiday' });
    expect(christmas.allowed === false && christmas.detail).toContain('Christmas Day');
    const substitute = launchDecision(at('2026-12-28T10:30Z'), schedule());
    expect(substitute).toMatchObject({ allowed: false, reason: 'bank-holiday' });
    expect(substitute.allowed === false && substitute.detail).toContain('substitute day');
    // Boxing Day itself falls on a Saturday: not a bank holiday, so its evening slots launch.
    expect(launchDecision(at('2026-12-26T19:00Z'), schedule())).toEqual({ allowed: true });
    expect(utcTimes('2026-12-24T22:00Z', 6)).toEqual([
      '2026-12-24T22:30:00Z', '2026-12-26T19:00:00Z', '2026-12-26T20:00:00Z', '2026-12-26T21:00:00Z', '2026-12-26T22:00:00Z',
      '2026-12-27T10:30:00Z',
    ]);
    expect(utcTimes('2026-12-27T22:00Z', 1)).toEqual(['2026-12-27T22:30:00Z']);
    expect(utcTimes('2026-12-27T23:00Z', 1)).toEqual(['2026-12-29T10:30:00Z']);
  });

  it('skips Easter Monday 2027, the day after the spring clock change', () => {
    expect(launchDecision(at('2027-03-29T09:30Z'), schedule())).toMatchObject({ allowed: false, reason: 'bank-holiday' });
    expect(utcTimes('2027-03-28T21:00Z', 2)).toEqual(['2027-03-28T21:30:00Z', '2027-03-30T09:30:00Z']);
  });

  it('launches on bank holidays when they are not skipped', () => {
    expect(launchDecision(at('2026-12-25T10:30Z'), schedule({ INGEST_SKIP_BANK_HOLIDAYS: 'false' }))).toEqual({ allowed: true });
  });

  it('skips extra holidays from configuration', () => {
    expect(launchDecision(at('2026-06-15T09:30Z'), schedule())).toEqual({ allowed: true });
    expect(launchDecision(at('2026-06-15T09:30Z'), schedule({ INGEST_EXTRA_BANK_HOLIDAYS: '2026-06-15' })))
      .toMatchObject({ allowed: false, reason: 'bank-holiday' });
  });

  it('refuses to guess beyond the calendar, unless holidays are not skipped', () => {
    expect(() => launchDecision(at('2031-01-06T10:30Z'), schedule())).toThrow(CalendarCoverageError);
    expect(launchDecision(at('2031-01-06T10:30Z'), schedule({ INGEST_SKIP_BANK_HOLIDAYS: 'no' }))).toEqual({ allowed: true });
  });
});
