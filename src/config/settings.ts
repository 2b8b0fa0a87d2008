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
}

export function setting<T>(key: string, env: string, description: string, parse: (text: string) => T): Setting<T> {
  const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return { key, flag, env, description, parse };
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
  boolean: (t: string): boolean => {
    const v = t.trim().toLowerCase();
    if (v === 'true' || v === '1' || v === 'yes') return true;
    if (v === 'false' || v === '0' || v === 'no') return false;
    throw new Error('must be true or false');
  },
  prefix: (t: string): string => t.trim().replace(/^\/+|\/+$/g, ''),
};

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `1h15m`, `500ms`, or plain milliseconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
    throw new Error('must be a duration such as 90s, 15m, 1h or 1h15m');
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNITS[p[2] as string] as number), 0);
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
}

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
      ['config file', fromFile === undefined ? undefined : String(fromFile)],
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
