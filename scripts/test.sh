#!/usr/bin/env bash
# The whole suite on the local stack. Starts the stack if it is not up, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=./bin/ingest-replica
if $cli local status >/dev/null 2>&1; then
  echo "local stack already up: using it"
else
  $cli local up
  trap '$cli local down >/dev/null 2>&1 || true' EXIT
fi
# shellcheck disable=SC1091
source .local/stack.env
npx vitest run "$@"
