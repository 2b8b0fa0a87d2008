import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON-lines logger on stderr (stdout is kept for command output). Constant messages, data in fields.
 * Field names that could carry key material or plaintext are redacted wherever they appear.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'ingest-replica',
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
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
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
