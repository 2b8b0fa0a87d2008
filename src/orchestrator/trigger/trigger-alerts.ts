import type { StoredStatusRow } from '../../status/status-item.js';
import type { Alert } from '../alerts/alert.js';

/** The trigger's alerts, in the monitoring channel's words. Pure: the caller sends them. */
const minutes = (ms: number): string => `${Math.round(ms / 6_000) / 10} min`;

type AlertRun = { correlationId: string; collections: readonly string[] };

/** A run the trigger deferred after waiting: Medium/Warning, why in the title, what held it in `reason`. */
function deferred(run: AlertRun, waitedMs: number, why: string, reason: Readonly<Record<string, string>>): Alert {
  return {
    severity: 'Medium',
    notificationType: 'Warning',
    title: `ingest-replica: run deferred, ${why}`,
    details: { 'Correlation id': run.correlationId, Collections: run.collections.join(', '), Waited: minutes(waitedMs), ...reason },
  };
}

export function deferredAlert(run: AlertRun, waitedMs: number, active: string): Alert {
  return deferred(run, waitedMs, 'another run is still active', { Active: active });
}

export function maintenanceDeferredAlert(run: AlertRun, waitedMs: number, detail: string): Alert {
  return deferred(run, waitedMs, 'the launch would fall inside a maintenance window', { Window: detail });
}

export function maintenanceOverrideAlert(run: { correlationId: string; collections: readonly string[] }, detail: string): Alert {
  return {
    severity: 'High',
    notificationType: 'Warning',
    title: 'ingest-replica: launching INSIDE a maintenance window (overridden by --override-maintenance-window)',
    details: { 'Correlation id': run.correlationId, Collections: run.collections.join(', '), Window: detail },
  };
}

export function blockedAlert(run: { correlationId: string }, failed: string, ackCommands: readonly string[]): Alert {
  return {
    severity: 'High',
    notificationType: 'Error',
    title: 'ingest-replica: launch blocked by unacknowledged failed runs',
    details: { 'Correlation id': run.correlationId, 'Failed rows': failed, 'Clear with': ackCommands.join('  or  ') },
  };
}

export function triggerFailedAlert(run: { correlationId: string; collections: readonly string[] }, error: Error, clusterId?: string): Alert {
  return {
    severity: 'High',
    notificationType: 'Error',
    title: 'ingest-replica: trigger failed',
    details: { 'Correlation id': run.correlationId, Collections: run.collections.join(', '), Cluster: clusterId, Error: error.message },
  };
}

export function reconciledAlert(correlationId: string, rows: readonly { row: StoredStatusRow; to: string; reason: string }[]): Alert {
  return {
    severity: 'High',
    notificationType: 'Error',
    title: `ingest-replica: run ${correlationId} marked ${[...new Set(rows.map((r) => r.to))].join('/')}`,
    details: {
      'Correlation id': correlationId,
      Collections: rows.map((r) => r.row.collection).join(', '),
      Reason: rows[0]?.reason,
      'Clear with': `ingest-replica ack --correlation-id ${correlationId}`,
    },
  };
}
