import { pino, type DestinationStream, type Logger } from 'pino';
import { prettyLine, prettyStream } from './pretty-log.js';

export type { Logger };

/** How logs look: `pretty` for a person at a terminal, `json` (JSON lines) for machines; `auto` picks by stderr. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/** The CLI's global `--log-format`, `--quiet` and `--verbose`, set once before a command runs. */
const defaults: { level?: string; format: LogFormat; quiet: boolean } = { format: 'auto', quiet: false };

export function configureLogging(options: { level?: string; format?: LogFormat; quiet?: boolean }): void {
  if (options.level !== undefined) defaults.level = options.level;
  if (options.format !== undefined) defaults.format = options.format;
  if (options.quiet !== undefined) defaults.quiet = options.quiet;
}

let beforeWrite: (() => void) | undefined;

/** Called before each readable log line is written: the progress display erases its line there. */
export function beforeLogWrite(fn: (() => void) | undefined): void {
  beforeWrite = fn;
}

/** `--quiet`: warnings and errors only, and no progress display. */
export const isQuiet = (): boolean => defaults.quiet;

/** Whether the logs of this process go to a person: pretty format on a terminal, unless JSON was asked for. */
export function logsArePretty(format: LogFormat = defaults.format, stderrIsTty: boolean = process.stderr.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && stderrIsTty);
}

/** The level in force: `--quiet`/`--verbose`, else LOG_LEVEL, else info. */
export function logLevel(): string {
  return defaults.level ?? process.env.LOG_LEVEL ?? 'info';
}

/**
 * Logger on stderr (stdout is kept for command output): JSON lines, or readable lines on a terminal (the same
 * content, formatted after redaction). Constant messages, data in fields. Field names that could carry key
 * material or plaintext are redacted wherever they appear.
 */
export function createLogger(options: { level?: string; name?: string; format?: LogFormat; destination?: DestinationStream } = {}): Logger {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const stream = logsArePretty(options.format ?? defaults.format)
    ? prettyStream({ color: options.destination === undefined && process.stderr.isTTY === true, write: (text) => {
      beforeWrite?.();
      destination.write(text);
    } })
    : destination;
  return pino(
    {
      name: options.name ?? 'ingest-replica',
      level: options.level ?? logLevel(),
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'plaintextDataKey', '*.plaintextDataKey',
          'dataKey', '*.dataKey',
          'record', '*.record',
          'plaintext', '*.plaintext',
          'dbObject', '*.dbObject',
        ],
        censor: '[redacted]',
      },
    },
    stream,
  );
}

/**
 * Writes a log line that another process of ours wrote as JSON (a Spark worker's, forwarded by the driver) the
 * way this process writes its own: JSON lines pass through as they are; readable logs get it formatted, after
 * the progress display erased its line (`beforeLogWrite`), so the two never share a terminal line.
 */
export function writeForwardedLogLine(
  jsonLine: string,
  options: { readonly format?: LogFormat; readonly stderrIsTty?: boolean; readonly write?: (text: string) => void } = {},
): void {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const stderrIsTty = options.stderrIsTty ?? process.stderr.isTTY === true;
  if (!logsArePretty(options.format ?? defaults.format, stderrIsTty)) {
    write(`${jsonLine}\n`);
    return;
  }
  beforeWrite?.();
  write(`${prettyLine(jsonLine, options.write === undefined && stderrIsTty)}\n`);
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
