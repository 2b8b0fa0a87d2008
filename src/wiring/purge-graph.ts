import type { PurgeConfig } from '../orchestrator/purge/purge-config.js';
import { EmrAdapter } from '../orchestrator/emr/emr-adapter.js';
import type { PurgePorts, PurgeSettings } from '../orchestrator/purge/index.js';
import { createS3MetadataObjects } from '../orchestrator/purge/s3-metadata-adapter.js';
import type { Logger } from '../shared/logger.js';
import { emrClient, s3Client } from './aws-clients.js';

/** The metadata purge's object graph, the same for the CLI and the Lambda handler. */
export interface PurgeGraph {
  readonly ports: PurgePorts;
  readonly settings: PurgeSettings;
  close(): void;
}

export function purgeGraph(config: PurgeConfig, logger: Logger): PurgeGraph {
  const emr = emrClient(config.aws);
  const s3 = s3Client(config.aws);
  return {
    ports: {
      clusters: new EmrAdapter({ client: emr, logger }),
      objects: createS3MetadataObjects({ s3, bucket: config.root.bucket }),
      logger,
    },
    settings: { root: config.root, ownership: config.ownership },
    close: () => {
      emr.destroy();
      s3.destroy();
    },
  };
}
