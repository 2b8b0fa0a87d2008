import { toError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

/**
 * Alerts to the monitoring channel. The existing monitoring consumes SNS messages whose body is JSON with
 * `severity`, `notification_type`, `slack_username`, `title_text` and optional `custom_elements` (a list of
 * `{key, value}`); this module speaks exactly that.
 */
export type Severity = 'Critical' | 'High' | 'Medium' | 'Low';
export type NotificationType = 'Information' | 'Warning' | 'Error';

export interface Alert {
  readonly severity: Severity;
  readonly notificationType: NotificationType;
  readonly title: string;
  /** Shown as key/value lines under the title, in this order. */
  readonly details: Readonly<Record<string, string | number | undefined>>;
}

export interface MonitoringMessage {
  readonly severity: Severity;
  readonly notification_type: NotificationType;
  readonly slack_username: string;
  readonly title_text: string;
  readonly custom_elements: readonly { key: string; value: string }[];
}

export const SLACK_USERNAME = 'ingest-replica';

export function monitoringMessage(alert: Alert): MonitoringMessage {
  return {
    severity: alert.severity,
    notification_type: alert.notificationType,
    slack_username: SLACK_USERNAME,
    title_text: alert.title,
    custom_elements: Object.entries(alert.details)
      .filter((e): e is [string, string | number] => e[1] !== undefined)
      .map(([key, value]) => ({ key, value: String(value) })),
  };
}

/** Port: where alerts go (an SNS topic in production). */
export interface AlertPublisher {
  publish(alert: Alert): Promise<void>;
}

/**
 * Sends an alert without letting a broken alert channel change the outcome being reported: a failed
 * publish is logged (with the alert) and swallowed. Returns whether it was sent.
 */
export async function raiseAlert(publisher: AlertPublisher, alert: Alert, logger: Logger): Promise<boolean> {
  try {
    await publisher.publish(alert);
    logger.info({ severity: alert.severity, title: alert.title }, 'alert sent');
    return true;
  } catch (e) {
    logger.error({ err: toError(e), severity: alert.severity, title: alert.title, details: alert.details }, 'alert could not be sent');
    return false;
  }
}
