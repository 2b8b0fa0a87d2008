import { buildApp } from './app.js';

// `cdk synth|diff|deploy` runs this (cdk.json); errors in the settings name the setting and stop the synth.
try {
  buildApp().app.synth();
} catch (error) {
  console.error(`ingest-replica infra: ${(error as Error).message}`);
  process.exit(2);
}
