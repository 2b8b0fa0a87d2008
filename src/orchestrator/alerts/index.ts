/** Public surface of the alerts: the monitoring message and the publisher port. The SNS adapter is imported from its own file. */
export { monitoringMessage, raiseAlert, SLACK_USERNAME, type Alert, type AlertPublisher, type MonitoringMessage, type NotificationType, type Severity } from './alert.js';
