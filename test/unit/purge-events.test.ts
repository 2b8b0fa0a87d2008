import { describe, expect, it } from 'vitest';
import { loadPurgeConfig } from '../../src/orchestrator/purge/purge-config.js';
import { eventActions } from '../../src/orchestrator/purge/index.js';
import { ConfigError } from '../../src/shared/errors.js';

const change = (clusterId: string, state: string) => ({
  version: '0', 'detail-type': 'EMR Cluster State Change', source: 'aws.emr', detail: { clusterId, state, name: 'ingest-replica-x' },
});

describe('eventActions', () => {
  it('purges on TERMINATED and TERMINATED_WITH_ERRORS straight from EventBridge', () => {
    expect(eventActions(change('j-1', 'TERMINATED'))).toEqual([{ kind: 'purge', change: { clusterId: 'j-1', state: 'TERMINATED', name: 'ingest-replica-x' } }]);
    expect(eventActions(change('j-2', 'TERMINATED_WITH_ERRORS'))).toMatchObject([{ kind: 'purge', change: { clusterId: 'j-2' } }]);
  });

  it('skips the other states, saying why', () => {
    for (const state of ['STARTING', 'RUNNING', 'WAITING', 'TERMINATING']) {
      expect(eventActions(change('j-1', state))).toEqual([{ kind: 'skip', clusterId: 'j-1', reason: `state ${state}: the purge waits for TERMINATED or TERMINATED_WITH_ERRORS` }]);
    }
  });

  it('unwraps each SNS record', () => {
    const event = { Records: [{ Sns: { Message: JSON.stringify(change('j-1', 'TERMINATED')) } }, { Sns: { Message: JSON.stringify(change('j-2', 'RUNNING')) } }] };
    expect(eventActions(event).map((a) => a.kind)).toEqual(['purge', 'skip']);
  });

  it('skips what it cannot read rather than failing (a retry could not fix it)', () => {
    expect(eventActions({ 'detail-type': 'EMR Step Status Change', detail: { clusterId: 'j-1', state: 'COMPLETED' } })).toMatchObject([{ kind: 'skip' }]);
    expect(eventActions({ 'detail-type': 'EMR Cluster State Change', detail: {} })).toMatchObject([{ kind: 'skip' }]);
    expect(eventActions({ Records: [{ Sns: { Message: '{' } }, { Sns: {} }] }).map((a) => a.kind)).toEqual(['skip', 'skip']);
    expect(eventActions('hello')).toMatchObject([{ kind: 'skip', reason: 'the event is not an object' }]);
  });
});

describe('loadPurgeConfig', () => {
  it('reads the HBase root and the cluster name prefix from the environment', () => {
    const config = loadPurgeConfig({ env: { INGEST_HBASE_ROOT_DIR: 's3://primary-root/hbase', INGEST_CLUSTER_NAME_PREFIX: 'ingest-replica-prod', AWS_REGION: 'eu-west-2' } });
    expect(config.root).toEqual({ bucket: 'primary-root', prefix: 'hbase' });
    expect(config.ownership).toEqual({ namePrefix: 'ingest-replica-prod', tag: { key: 'Application', value: 'ingest-replica' } });
    expect(config.aws).toEqual({ awsEndpointUrl: undefined, awsServiceEndpoints: {}, awsEmulator: false, awsRegion: 'eu-west-2' });
  });

  it('needs the HBase root away from the local stack, and says how to set it', () => {
    expect(() => loadPurgeConfig({ env: {} })).toThrow(ConfigError);
    expect(() => loadPurgeConfig({ env: {} })).toThrow('INGEST_HBASE_ROOT_DIR');
    expect(() => loadPurgeConfig({ env: { INGEST_HBASE_ROOT_DIR: 'hdfs:///hbase' } })).toThrow(/invalid hbaseRootDir.*INGEST_HBASE_ROOT_DIR/);
  });
});
