#!/usr/bin/env bash
# The main job, end to end, on the local stack: up, seed, run, and show what was published.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=./bin/ingest-replica
$cli local up
# shellcheck disable=SC1091
source .local/stack.env
$cli local seed --collections 3 --records 2000 --keys 8 --seed demo
