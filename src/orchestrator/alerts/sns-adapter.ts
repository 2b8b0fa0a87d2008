import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { PermanentError, TransientError, toError, type IngestError } from '../../shared/errors.js';
import { monitoringMessage, type Alert, type AlertPublisher } from './alert.js';

export interface SnsAlertsOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
}

/** Alerts published to the monitoring SNS topic, one message per alert, body = the monitoring JSON. */
export class SnsAlerts implements AlertPublisher {
  constructor(private readonly options: SnsAlertsOptions) {}

  async publish(alert: Alert): Promise<void> {
    try {
      await this.options.client.send(new PublishCommand({ TopicArn: this.options.topicArn, Message: JSON.stringify(monitoringMessage(alert)) }));
    } catch (e) {
      throw snsError(e, this.options.topicArn);
    }
  }
}

function snsError(e: unknown, topicArn: string): IngestError {
  const error = toError(e);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const options = { context: { topicArn }, cause: error };
  const message = `publishing an alert to ${topicArn} failed: ${error.message}`;
  if (status === undefined || status >= 500 || error.name === 'ThrottledException' || error.name === 'ThrottlingException') return new TransientError(message, options);
  return new PermanentError(message, options);
}
