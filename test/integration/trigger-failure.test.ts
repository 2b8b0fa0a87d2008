import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/shared/project-root.js';
import { TriggerFailedError, trigger } from '../../src/orchestrator/trigger/index.js';
import { exitCodeFor } from '../../src/shared/errors.js';
import { keyOf } from '../../src/status/status-item.js';
import { REASON_ATTR } from '../../src/status/status-reason-adapter.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { uniqueCollection } from '../support/local-stack.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';

describe('a trigger whose launch EMR rejects (moto)', () => {
  let fx: OrchestratorFixture;
  let templates: string;

  beforeAll(async () => {
    fx = await orchestratorFixture('failure');
    // A template EMR refuses: a release label and an AMI version together (ValidationException).
    templates = mkdtempSync(join(tmpdir(), 'emr-templates-'));
    cpSync(join(projectRoot(), 'emr-config', 'cluster'), templates, { recursive: true });
    const cluster = JSON.parse(readFileSync(join(templates, 'cluster.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(templates, 'cluster.json'), JSON.stringify({ ...cluster, AmiVersion: '3.11.0' }));
  });
  afterAll(async () => {
    rmSync(templates, { recursive: true, force: true });
    await fx?.cleanup();
  });

  it('marks the rows LAMBDA_FAILED with the error, alerts, exits 1, and leaves the lock free for the next trigger', async () => {
    const graph = fx.graph({ emrTemplates: templates });
    const collection = uniqueCollection('fail');
    await fx.inbox.drain();
    try {
      const error = await trigger({ force: true, dryRun: false, waitMs: 1000, collections: [collection], correlationId: `fail-${fx.id}` }, graph.trigger).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TriggerFailedError);
      expect(exitCodeFor(error)).toBe(1);
      expect((error as Error).message).toMatch(/RunJobFlow failed/);
    } finally {
      graph.close();
    }
    const item = (await dynamoDocumentClient(fx.config().step).send(new GetCommand({ TableName: fx.statusTable, Key: keyOf(`fail-${fx.id}`, collection) }))).Item;
    expect(item?.JobStatus).toBe('LAMBDA_FAILED');
    expect(item?.[REASON_ATTR]).toMatch(/trigger failed: EMR RunJobFlow failed/);
    const [alert] = await fx.inbox.drain();
    expect(alert).toMatchObject({ severity: 'High', notification_type: 'Error', title_text: 'ingest-replica: trigger failed' });
    expect(await fx.clusters()).toEqual([]);

    // The failure now blocks that collection; another collection launches: the lock was released.
    const ok = fx.graph();
    try {
      expect((await trigger({ force: true, dryRun: false, waitMs: 1000, collections: [uniqueCollection('fail')] }, ok.trigger)).outcome).toBe('launched');
    } finally {
      ok.close();
    }
  });
});
