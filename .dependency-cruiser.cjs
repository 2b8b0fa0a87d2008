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
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
