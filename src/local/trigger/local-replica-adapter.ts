import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { metaFolder, type HBaseRoot } from '../../orchestrator/purge/index.js';
import type { ReplicaStandIn } from './local-run.js';

/**
 * Local mode's stand-in for what an EMR read replica writes into the primary's S3 root: its own `hbase:meta`
 * under `data/hbase/meta_<clusterId>/` (a table descriptor, the meta region's info and store files). Only
 * names and sizes matter: the purge must find and delete exactly these.
 */
export function s3ReplicaStandIn(s3: S3Client, root: HBaseRoot): ReplicaStandIn {
  return {
    leaveMetadata: async (clusterId) => {
      const folder = metaFolder(root, clusterId);
      const keys = [
        `${folder}/.tabledesc/.tableinfo.0000000001`,
        `${folder}/1588230740/.regioninfo`,
        `${folder}/1588230740/info/${randomBytes(16).toString('hex')}`,
        `${folder}/1588230740/recovered.edits/1.seqid`,
      ];
      await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: root.bucket, Key, Body: `local replica stand-in for ${clusterId}\n` }))));
      return keys;
    },
  };
}
