import { ConfigError } from '../shared/errors.js';

/**
 * Every setting the CLI reads, with where it comes from and how to fix a bad value. Precedence:
 * flag > environment > config file (`--config` / INGEST_REPLICA_CONFIG, JSON) > local stack > default.
 */
export interface Setting<T> {
  readonly key: string;
  readonly flag: string;
  readonly env: string;
  readonly description: string;
  readonly parse: (text: string) => T;
  /** The JSON types the config file may hold for it (a string always; numbers, booleans or lists when listed). */
  readonly fileTypes: readonly FileType[];
}

/** A JSON type of a config file value, besides a string. */
export type FileType = 'number' | 'boolean' | 'array';

/**
 * Every setting defined anywhere (step, orchestrator, schedule), by config file key: a config file is shared by
 * every command, so a key is unknown only when no table defines it. Each table registers itself when its module
 * loads, and the CLI and the handlers load every table they read the file for.
 */
const REGISTERED = new Map<string, Setting<unknown>>();

export function setting<T>(key: string, env: string, description: string, parse: (text: string) => T, fileTypes: readonly FileType[] = []): Setting<T> {
  const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const s: Setting<T> = { key, flag, env, description, parse, fileTypes };
  REGISTERED.set(key, s as Setting<unknown>);
  return s;
}

/** The config file keys every loaded settings table defines, sorted (for errors and the README check). */
export function registeredSettingKeys(): string[] {
  return [...REGISTERED.keys()].sort();
}

/**
 * Checks a config file's object: every key must be a setting, every value a string or a JSON type the setting
 * accepts (a bare number is never a duration). The error names the key, the file and the fix.
 */
export function checkConfigFile(file: Readonly<Record<string, unknown>>, path: string): void {
  for (const [key, value] of Object.entries(file)) {
    const s = REGISTERED.get(key);
    if (s === undefined) {
      const near = registeredSettingKeys().filter((k) => k.toLowerCase() === key.toLowerCase() || k.toLowerCase().includes(key.toLowerCase().replace(/[-_]/g, '')));
      throw new ConfigError(
        `config file ${path}: unknown key ${JSON.stringify(key)}${near.length > 0 ? ` (did you mean ${near.map((k) => JSON.stringify(k)).join(' or ')}?)` : ''}. ` +
          'Fix: remove it, or use one of the keys listed in README ("Config file").',
        { context: { file: path, key } },
      );
    }
    const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
    if (type !== 'string' && !s.fileTypes.includes(type as FileType)) {
      const allowed = ['a string', ...s.fileTypes.map((t) => (t === 'array' ? 'a list of strings' : `a ${t}`))].join(' or ');
      throw new ConfigError(
        `config file ${path}: key ${JSON.stringify(key)} is ${type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`} (${JSON.stringify(value)}); it must be ${allowed}. ` +
          `Fix: write it as, e.g., ${JSON.stringify(key)}: "<value>" (${s.description}).`,
        { context: { file: path, key } },
      );
    }
    if (type === 'array' && !(value as unknown[]).every((v) => typeof v === 'string')) {
      throw new ConfigError(`config file ${path}: key ${JSON.stringify(key)} must be a list of strings. Fix: quote each entry (${s.description}).`, { context: { file: path, key } });
    }
  }
}

export const parsers = {
  text: (t: string): string => {
    if (t.trim() === '') throw new Error('must not be empty');
    return t.trim();
  },
  url: (t: string): string => {
    const u = new URL(t.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('must be an http:// or https:// URL');
    return t.trim().replace(/\/+$/, '');
  },
  httpsUrl: (t: string): string => {
    const u = parsers.url(t);
    if (!u.startsWith('https:')) throw new Error('must be an https:// URL (DKS requires mutual TLS)');
    return u;
  },
  positiveInt: (t: string): number => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1) throw new Error('must be a whole number of at least 1');
    return n;
  },
  nonNegativeInt: (t: string): number => {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 0) throw new Error('must be a whole number of at least 0');
    return n;
  },
  duration: (t: string): number => parseDuration(t),
  bytes: (t: string): number => parseBytes(t),
  boolean: (t: string): boolean => {
    const v = t.trim().toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    throw new Error('must be true or false');
  },
  prefix: (t: string): string => t.trim().replace(/^\/+|\/+$/g, ''),
};

const BYTE_UNITS: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** `16MiB`, `512KiB`, `1GiB`, `4096B` or a bare number of bytes (`16777216`): at least 1 byte. */
export function parseBytes(text: string): number {
  const match = /^(\d+)\s*(b|kib|mib|gib)?$/i.exec(text.trim());
  const n = match ? Number(match[1]) * (BYTE_UNITS[(match[2] ?? 'b').toLowerCase()] as number) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error('must be a size of at least 1 byte, e.g. 16MiB, 512KiB, 1GiB or a number of bytes');
  return n;
}

/** The inverse of `parseBytes` for defaults and help: 16 777 216 → `16MiB`, 1000 → `1000B`. */
export function formatBytes(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) {
    const size = BYTE_UNITS[unit.toLowerCase()] as number;
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `90s`, `15m`, `1h`, `1h15m`, `500ms`, `2d`. A unit is required: a bare number is refused (it meant milliseconds
 * once, and `--visibility-lag 5` read as 5 ms is an easy way to skip records), except `0`.
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (t === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(t)) throw new Error(`needs a unit: ${t}s, ${t}m or ${t}ms (ms, s, m, h, d), not a bare number`);
  const parts = [...t.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
    throw new Error('must be a duration with a unit such as 500ms, 90s, 15m, 1h or 1h15m');
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
}

/** The inverse of `parseDuration` for defaults and help: 4 500 000 → `1h15m`, 1500 → `1s500ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  let rest = ms;
  let text = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNITS[unit] as number;
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return text;
}

export function invalid(s: Setting<unknown>, source: string, value: string, reason: string): ConfigError {
  return new ConfigError(
    `invalid ${s.key} from ${source} (${JSON.stringify(value)}): ${reason}. ` +
      `Fix: pass ${s.flag} <value> or set ${s.env} (${s.description}).`,
    { context: { setting: s.key } },
  );
}

export interface SettingSources {
  readonly flags?: Readonly<Record<string, string | undefined>>;
  readonly env: NodeJS.ProcessEnv;
  /** The JSON config file's object (`readConfigFile`). */
  readonly file: Readonly<Record<string, unknown>>;
  /** Where the config file was read from, for errors. */
  readonly filePath?: string;
}

/** Whether the setting was given by a flag, the environment or the config file (not left to a default). */
export function isExplicit(s: Pick<Setting<unknown>, 'key' | 'env'>, sources: SettingSources): boolean {
  const fromFile = sources.file[s.key];
  return [sources.flags?.[s.key], sources.env[s.env], fromFile === undefined ? undefined : String(fromFile)]
    .some((v) => v !== undefined && v.trim() !== '');
}

/** How an operator sets it: every place, for error messages. */
export const whereToSet = (s: Pick<Setting<unknown>, 'key' | 'flag' | 'env'>): string => `flag ${s.flag} <value>, environment ${s.env}, or config file key "${s.key}"`;

/**
 * Resolves and parses every setting, flag > environment > config file > default; a setting with no value
 * anywhere is left out. A bad value throws a ConfigError naming the setting, where the value came from and the fix.
 */
export function resolveSettings<K extends string>(
  settings: Readonly<Record<K, Setting<unknown>>>,
  sources: SettingSources,
  defaults: Readonly<Partial<Record<K, string>>>,
): Partial<Record<K, unknown>> {
  const values: Partial<Record<K, unknown>> = {};
  for (const [name, s] of Object.entries(settings) as [K, Setting<unknown>][]) {
    const fromFile = sources.file[s.key];
    const candidates: [string, string | undefined][] = [
      [`flag ${s.flag}`, sources.flags?.[s.key]],
      [`environment ${s.env}`, sources.env[s.env]],
      [`config file ${sources.filePath ?? ''}`.trim(), fromFile === undefined ? undefined : String(fromFile)],
      ['default', defaults[name]],
    ];
    const found = candidates.find(([, v]) => v !== undefined && v !== '');
    if (found === undefined) continue;
    const [source, raw] = found as [string, string];
    try {
      values[name] = s.parse(raw);
    } catch (error) {
      throw invalid(s, source, raw, (error as Error).message);
    }
  }
  return values;
}
