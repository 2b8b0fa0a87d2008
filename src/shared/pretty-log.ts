/**
 * Human-readable log lines for a terminal: `10:30:00.123 INFO  collection summary  collection=core:addresses
 * records=500`. It formats pino's JSON lines after redaction, so it sees exactly what a JSON log would hold
 * (key material and plaintext are already `[redacted]`).
 */
export interface PrettyOptions {
  readonly color: boolean;
  readonly write: (text: string) => void;
}

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'], 20: ['DEBUG', '\x1b[36m'], 30: ['INFO ', '\x1b[32m'], 40: ['WARN ', '\x1b[33m'], 50: ['ERROR', '\x1b[31m'], 60: ['FATAL', '\x1b[35m'],
};

export function prettyStream(options: PrettyOptions): { write(line: string): void } {
  return { write: (line: string) => options.write(`${prettyLine(line, options.color)}\n`) };
}

export function prettyLine(line: string, color: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const { level, time, msg, name: _name, err, ...fields } = entry;
  const [label, tint] = LEVELS[Number(level)] ?? ['LOG  ', ''];
  const paint = (text: string, code: string): string => (color && code !== '' ? `${code}${text}\x1b[0m` : text);
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const data = Object.entries(fields).map(([k, v]) => `${paint(k, '\x1b[90m')}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  const parts = [clock, paint(label, tint), String(msg ?? ''), ...data].filter((p) => p !== '');
  let text = parts.join('  ');
  if (err !== null && typeof err === 'object') {
    const e = err as { type?: string; message?: string; stack?: string };
    text += `\n    ${paint(`${e.type ?? 'Error'}: ${e.message ?? ''}`, '\x1b[31m')}`;
  }
  return text;
}
