/**
 * Dependency rules checked by `make check` (`make cycles`): no file cycles, and folder rules (README.md, "Folder
 * layering"). Each rule names what a folder may not import, and why.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      // Small helpers every folder uses (errors, logger, time, types): they know no other folder.
      name: 'shared-is-a-leaf',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/(?!shared/)' },
    },
    {
      // The data contracts (DESIGN.md: envelope, row key, AES-CTR): pure, on top of shared/ alone.
      name: 'contracts-import-only-shared',
      severity: 'error',
      from: { path: '^src/contracts/' },
      to: { path: '^src/(?!contracts/|shared/)' },
    },
    {
      // The step's domain logic and its ports: adapters (keys/, hbase/, sink/, status/) implement the ports and
      // import step/, never the other way round, so the pipeline runs with in-memory fakes. An error or a name
      // that both sides need is declared here (KeyRejectedError, QUARANTINE_FOLDER).
      name: 'step-imports-only-contracts-and-shared',
      severity: 'error',
      from: { path: '^src/step/' },
      to: { path: '^src/(?!step/|contracts/|shared/)' },
    },
    {
      // Adapters (DKS and KMS, HBase REST, S3 and Parquet, DynamoDB, Secrets Manager, spark-submit) implement the
      // step's ports: each knows the step, the contracts and shared/, never another adapter, configuration, the
      // orchestrator or the wiring. spark/worker-entry.ts is an entry point (a process of its own), like cli/.
      name: 'adapters-import-only-step-contracts-shared',
      severity: 'error',
      from: { path: '^src/(keys|hbase|sink|status|collections|spark)/', pathNot: '^src/spark/worker-entry' },
      to: { path: '^src/(?!$1/|step/|contracts/|shared/)' },
    },
    {
      // Configuration reads settings (flags, environment, files) into typed values; it may know the defaults
      // the adapters and the step declare, but not the orchestrator, the local stand-ins or the wiring.
      name: 'config-knows-no-orchestrator-local-or-wiring',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/(orchestrator|local|wiring|cli|handlers)/' },
    },
    {
      // The orchestrator (schedule, guard, trigger, EMR, purge, admin) works through its ports: it never
      // assembles adapters (wiring/), runs local stand-ins (local/) or knows its entry points.
      name: 'orchestrator-knows-no-wiring-local-or-entry-points',
      severity: 'error',
      from: { path: '^src/orchestrator/' },
      to: { path: '^src/(wiring|local|cli|handlers)/' },
    },
    {
      // The local stack and its stand-ins (HBase from Maven, moto, LocalStack, the local DKS, the local trigger
      // completion) are for development: only the entry points and the wiring reach them, never production code.
      name: 'local-only-from-entry-points-and-wiring',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(local|cli|wiring)/' },
      to: { path: '^src/local/' },
    },
    {
      // Entry points (the CLI, the Lambda handlers) are thin and imported by nothing but themselves.
      name: 'nothing-imports-entry-points',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|handlers)/' },
      to: { path: '^src/(cli|handlers)/' },
    },
    {
      // Folders form layers: a cycle between two folders (even through different files) is a layering error.
      name: 'no-folder-cycle',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
