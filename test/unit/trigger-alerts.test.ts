import { describe, expect, it } from 'vitest';
import { monitoringMessage } from '../../src/orchestrator/alerts/index.js';

describe('monitoringMessage', () => {
  it('speaks the existing monitoring\'s JSON: severity, notification_type, slack_username, title_text, custom_elements', () => {
    const message = monitoringMessage({
      severity: 'High', notificationType: 'Error', title: 'ingest-replica: trigger failed',
      details: { 'Correlation id': 'abc', Attempts: 3, Cluster: undefined },
    });
    expect(JSON.parse(JSON.stringify(message))).toEqual({
      severity: 'High',
      notification_type: 'Error',
      slack_username: 'ingest-replica',
      title_text: 'ingest-replica: trigger failed',
      custom_elements: [{ key: 'Correlation id', value: 'abc' }, { key: 'Attempts', value: '3' }],
    });
  });
});
