import type { Command } from 'commander';
import { createS3ObjectStore, MANIFEST_NAME, parseManifest } from '../sink/index.js';
import { readParquetRows } from '../sink/parquet-reader-adapter.js';
import { ConfigError } from '../shared/errors.js';
import { s3Client } from '../wiring/aws-clients.js';
import { collectionsFlag, withCollectionsFlag } from './collections-flag.js';
import { runCommand } from './command.js';
import { stepConfigFrom, withSettings } from './settings-flags.js';

/** `output list` (published runs, from their manifests) and `output show` (rows of one Parquet file). */
export function registerOutputCommands(program: Command): void {
  const output = program.command('output').description('inspect what the step published to S3');

  withSettings(
    withCollectionsFlag(
      output
        .command('list')
        .description('published runs under the output prefix: only folders with a manifest are listed'),
      'only these collections',
    ).option('--json', 'print JSON: one object per published run (its manifest\'s collection, run, rows, quarantined, folder, files)'),
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const config = stepConfigFrom(flags, false);
      const s3 = s3Client(config);
      try {
        const store = createS3ObjectStore({ s3, bucket: config.outputBucket });
        const named = collectionsFlag(flags);
        const folders = named === undefined ? [''] : named.map((c) => `${c.replace(':', '_')}/`);
        const runs = [];
        for (const folder of folders) {
          const keys = (await store.list(`${config.outputPrefix}/${folder}`)).filter((k) => k.endsWith(`/${MANIFEST_NAME}`)).sort();
          for (const key of keys) runs.push(parseManifest(Buffer.from((await store.get(key)) ?? new Uint8Array()).toString('utf8'), key));
        }
        if (flags.json === true) {
          console.log(JSON.stringify(runs.map((m) => ({
            collection: m.collection, correlationId: m.correlationId, rows: m.rows, quarantined: m.quarantined,
            folder: `s3://${config.outputBucket}/${m.folder}/`, files: m.files.map((f) => ({ url: `s3://${config.outputBucket}/${f.key}`, rows: f.rows, bytes: f.bytes })),
          })), null, 2));
          return;
        }
        for (const manifest of runs) {
          console.log(`${manifest.collection.padEnd(30)} ${manifest.correlationId.padEnd(28)} ${String(manifest.rows).padStart(8)} rows ${String(manifest.quarantined).padStart(5)} quarantined  s3://${config.outputBucket}/${manifest.folder}/`);
          for (const file of manifest.files) console.log(`    s3://${config.outputBucket}/${file.key}  ${file.rows} rows  ${file.bytes} bytes`);
        }
        if (runs.length === 0) console.log(`no published runs under s3://${config.outputBucket}/${config.outputPrefix}/${folders.length === 1 ? folders[0] : `{${folders.join(',')}}`}`);
      } finally {
        s3.destroy();
      }
    }),
  );

  withSettings(
    output
      .command('show')
      .description('print rows of one published Parquet file as JSON lines (the record column holds plaintext: for your terminal only)')
      .argument('<s3-url>', 's3://bucket/key of a part-NNNNN.parquet file')
      .option('--limit <n>', 'rows to print', '5'),
  ).action((url: string, flags: Record<string, unknown>) =>
    runCommand(async () => {
      const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
      if (!match) throw new ConfigError(`${JSON.stringify(url)} is not an s3://bucket/key URL`);
      const limit = Number(flags.limit ?? 5);
      if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`invalid --limit ${JSON.stringify(flags.limit)}: must be a whole number of at least 1, e.g. --limit 20`);
      const config = stepConfigFrom(flags, false);
      const s3 = s3Client(config);
      try {
        const store = createS3ObjectStore({ s3, bucket: match[1] as string });
        const bytes = await store.get(match[2] as string);
        if (bytes === undefined) throw new ConfigError(`${url} does not exist`);
        const rows = await readParquetRows(bytes, limit);
        for (const row of rows) console.log(JSON.stringify(row));
      } finally {
        s3.destroy();
      }
    }),
  );
}
