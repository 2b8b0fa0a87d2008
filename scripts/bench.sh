#!/usr/bin/env bash
# make bench: benchmarks on the local stack (not part of make test). Starts the stack if it is not up (and
# stops what it started), seeds the benchmark dataset unless it is already there, measures, and writes the
# figures to BENCHMARKS.md. Extra arguments go to bench/main.ts, e.g. `make bench BENCH_ARGS="--runs 5"`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Peak RSS of `run` is read from GNU time (Debian/Ubuntu package `time`).
[ -x /usr/bin/time ] || { echo "make bench needs /usr/bin/time (GNU time): apt-get install time" >&2; exit 2; }
# shellcheck source=scripts/ensure-stack.sh
source scripts/ensure-stack.sh
node=.tools/node/bin/node
[ -x "$node" ] || node="$(command -v node)"
"$node" --max-semi-space-size=8 --import ./bench/resolve-ts.ts bench/main.ts ${BENCH_ARGS:-} "$@"
# The Spark engine against the in-process one (figures printed; BENCHMARKS.md "Spark engine" explains them),
# e.g. `make bench BENCH_SPARK_ARGS="--records 1000000 --tasks-per-core 2"`.
"$node" --max-semi-space-size=8 --import ./bench/resolve-ts.ts bench/spark.ts ${BENCH_SPARK_ARGS:-}
