import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrchestratorConfig } from '../../src/config/orchestrator-config.js';
import { loadScheduleConfig } from '../../src/orchestrator/schedule/schedule-config.js';
import { formatDuration, parseDuration, registeredSettingKeys } from '../../src/config/settings.js';
import { loadStepConfig } from '../../src/config/step-config.js';
import { ConfigError } from '../../src/shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ingest-config-'));
let n = 0;
function configFile(content: unknown): string {
  const path = join(dir, `config-${(n += 1)}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe('durations', () => {
  it('refuses a bare number, which used to mean milliseconds, and says which units there are', () => {
    expect(() => parseDuration('5')).toThrow(/needs a unit: 5s, 5m or 5ms/);
    expect(() => parseDuration('1.5')).toThrow(/needs a unit/);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('1h15m')).toBe(4_500_000);
    expect(parseDuration('500ms')).toBe(500);
  });

  it('refuses a unitless duration from a flag, the environment and the config file alike, naming the setting', () => {
    expect(() => loadStepConfig({ env: {}, flags: { visibilityLag: '5' }, requireDks: false })).toThrow(/invalid visibilityLag from flag --visibility-lag \("5"\): needs a unit/);
    expect(() => loadStepConfig({ env: { INGEST_LEASE_WAIT: '600' }, requireDks: false })).toThrow(/invalid leaseWait from environment INGEST_LEASE_WAIT/);
    expect(() => loadOrchestratorConfig({ env: { INGEST_TRIGGER_WAIT: '90' } })).toThrow(/invalid wait .*needs a unit/);
    expect(() => loadScheduleConfig({ env: { INGEST_LAUNCH_TOLERANCE: '600' } })).toThrow(/needs a unit/);
    const file = configFile({ visibilityLag: '30' });
    expect(() => loadStepConfig({ env: {}, flags: { config: file }, requireDks: false })).toThrow(new RegExp(`from config file ${file} .*needs a unit`));
  });

  it('formats defaults back with units, so they parse again', () => {
    for (const ms of [0, 500, 90_000, 4_500_000, 86_400_000 + 1500]) expect(parseDuration(formatDuration(ms))).toBe(ms);
    expect(formatDuration(4_500_000)).toBe('1h15m');
    expect(loadStepConfig({ env: {}, requireDks: false }).visibilityLagMs).toBe(4_500_000);
  });
});

describe('the config file', () => {
  it('reads the keys of every settings table, as strings or their JSON types', () => {
    const file = configFile({ outputBucket: 'b', concurrency: 3, visibilityLag: '10m', wait: '5m', skipBankHolidays: false, launchSlots: ['30 10 MON-FRI'] });
    expect(loadStepConfig({ env: {}, flags: { config: file }, requireDks: false })).toMatchObject({ outputBucket: 'b', concurrency: 3, visibilityLagMs: 600_000 });
    expect(loadOrchestratorConfig({ env: {}, flags: { config: file } }).waitMs).toBe(300_000);
    expect(loadScheduleConfig({ env: {}, flags: { config: file } }).skipBankHolidays).toBe(false);
  });

  it('refuses an unknown key, naming it and the file, with the nearest key', () => {
    const file = configFile({ outputBucket: 'b', bucket: 'x' });
    const error = (() => {
      try {
        loadStepConfig({ env: {}, flags: { config: file }, requireDks: false });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`config file ${file}: unknown key "bucket" (did you mean "outputBucket"?). Fix: remove it, or use one of the keys listed in README ("Config file").`);
    expect(() => loadStepConfig({ env: {}, flags: { config: configFile({ visibility_lag: '1h' }) }, requireDks: false })).toThrow(/unknown key "visibility_lag" \(did you mean "visibilityLag"\?\)/);
  });

  it('refuses a value of the wrong type, naming the key, the file and what it must be', () => {
    const numberBucket = configFile({ outputBucket: 5 });
    expect(() => loadStepConfig({ env: {}, flags: { config: numberBucket }, requireDks: false })).toThrow(`config file ${numberBucket}: key "outputBucket" is a number (5); it must be a string.`);
    expect(() => loadStepConfig({ env: {}, flags: { config: configFile({ concurrency: [2] }) }, requireDks: false })).toThrow(/key "concurrency" is an array \(\[2\]\); it must be a string or a number/);
    expect(() => loadStepConfig({ env: {}, flags: { config: configFile({ sparkConf: { 'spark.a': 1 } }) }, requireDks: false })).toThrow(/key "sparkConf" is an object/);
    expect(() => loadStepConfig({ env: {}, flags: { config: configFile({ kmsKeyId: null }) }, requireDks: false })).toThrow(/key "kmsKeyId" is a null/);
    // A duration is never a bare number, in the file either.
    expect(() => loadStepConfig({ env: {}, flags: { config: configFile({ lease: 120 }) }, requireDks: false })).toThrow(/key "lease" is a number \(120\); it must be a string/);
  });

  it('is documented key by key in the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Config file'));
    const missing = registeredSettingKeys().filter((k) => !section.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });
});
