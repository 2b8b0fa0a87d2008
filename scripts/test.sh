#!/usr/bin/env bash
# The whole suite on the local stack. Starts the stack if it is not up, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ensure-stack.sh
source scripts/ensure-stack.sh
# shellcheck disable=SC1091
source .local/stack.env
npx vitest run "$@"
