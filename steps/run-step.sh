#!/usr/bin/env bash
# EMR step wrapper: runs the packaged CLI's `run` with the arguments the orchestrator passes, e.g.
#   run-step.sh --correlation-id ID --triggered-time MS --end-time MS --collections ns:t [ns:t ...]
# The bootstrap action installs the CLI and its Node runtime under /opt/ingest-replica.
set -euo pipefail
home="${INGEST_REPLICA_INSTALL:-/opt/ingest-replica}"
exec "$home/node/bin/node" --enable-source-maps "$home/dist/src/cli/main.js" run "$@"
