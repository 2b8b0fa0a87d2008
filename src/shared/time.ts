/** Time helpers: everything is epoch milliseconds, UTC, unless a name says otherwise. */
import { collectionFolderName } from './collection-folder.js';

/** Parses an ISO-8601 instant or epoch milliseconds; returns undefined when neither. */
export function parseInstant(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `2020-08-05T07:07:00.105+0000`: the timestamp style the ingest pipeline writes in envelopes. */
export function formatIngestTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** `YYYYMMDD-HHMM` (UTC): the run folder name of the output layout. */
export function runFolderName(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/**
 * A run's output folder (DESIGN.md §3.5): `<prefix>/<db>_<table>/<YYYYMMDD-HHMM>_<correlation id>`, the
 * collection part spelled injectively (collection-folder.ts). The
 * correlation id makes it unique per run, so two runs triggered in the same minute never share a folder.
 */
export function runFolderOf(prefix: string, collection: { readonly db: string; readonly table: string }, triggeredTime: number, correlationId: string): string {
  return `${prefix}/${collectionFolderName(collection)}/${runFolderName(triggeredTime)}_${correlationId}`;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
