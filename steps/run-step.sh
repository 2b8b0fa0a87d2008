#!/usr/bin/env bash
# EMR step wrapper (command-runner.jar runs it on the master node as the hadoop user): runs the packaged
# CLI's `run` with the arguments the orchestrator passes, e.g.
#   run-step.sh --correlation-id ID --triggered-time MS --end-time MS --collections ns:t[,ns:t...]
# The bootstrap action (emr-config/bootstrap/install-ingest-replica.sh) installed, under /opt/ingest-replica:
#   node/bin/node                 the Node runtime for this node's architecture
#   dist/ingest-replica.js        the bundled CLI (dist/parquet-encoder-adapter.js and the wasm beside it)
#   etc/config.json               settings (bucket, KMS key, DKS URL and certificates, ...), when given
#   etc/hbase-rest.env            the port of the HBase REST server it starts on every node (127.0.0.1)
# The step plans on the master and runs each collection's ranges as Spark tasks on YARN (spark-submit from
# SPARK_HOME, default EMR's /usr/lib/spark); each task's Node worker reads its own node's REST server.
# The CLI's JSON log lines (stderr) are also appended to /var/log/ingest-replica/step-<correlation id>.log,
# which the CloudWatch agent ships to /app/ingest-replica-incremental (stream family {instance_id}/step). That
# file is the only copy shipped: EMR's steps/<id>/stderr holds the same lines and stays in the log URI on S3;
# stdout carries the summary lines, which are log lines ("collection summary") too.
# The exit code is the CLI's: 0 all collections completed, 1 a collection failed, 2 usage or configuration.
set -euo pipefail

# The install's root: this script lives in <install>/steps/ (INGEST_REPLICA_INSTALL overrides).
home="${INGEST_REPLICA_INSTALL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
log_dir="${INGEST_REPLICA_LOG_DIR:-/var/log/ingest-replica}"

# Lines in the CLI's own (pino) shape, so that every line of the step log is JSON.
log() {
  local level="$1" msg="$2"
  printf '{"level":%s,"time":"%s","name":"ingest-replica/run-step","msg":"%s"}\n' \
    "$level" "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "${msg//\"/\\\"}" >&2
}

correlation=""
previous=""
for arg in "$@"; do
  case "$arg" in --correlation-id=*) correlation="${arg#*=}" ;; esac
  [ "$previous" != "--correlation-id" ] || correlation="$arg"
  previous="$arg"
done
# The id names a file: keep what the CLI accepts in an id, replace anything else.
safe_id="$(printf '%s' "${correlation:-unknown}" | tr -c 'A-Za-z0-9._:-' '_' | cut -c1-128)"

rest_log=/dev/stderr
if mkdir -p "$log_dir" 2>/dev/null && touch "$log_dir/step-$safe_id.log" 2>/dev/null; then
  # stderr goes to EMR's step stderr (and from there to the cluster's log URI) and to the agent's file.
  exec 2> >(tee -a "$log_dir/step-$safe_id.log" >&2)
  # The REST helper's plain-text lines go to its own log, so that the step log stays JSON lines.
  rest_log="$log_dir/hbase-rest.log"
else
  log 40 "cannot write $log_dir/step-$safe_id.log: logs go to the EMR step stderr only"
fi

node="$home/node/bin/node"
cli="$home/dist/ingest-replica.js"
[ -x "$node" ] || { log 50 "no Node runtime at $node: did the install-ingest-replica bootstrap action run?"; exit 2; }
[ -f "$cli" ] || { log 50 "no CLI at $cli: did the install-ingest-replica bootstrap action run?"; exit 2; }

if [ -z "${INGEST_REPLICA_CONFIG:-}" ] && [ -f "$home/etc/config.json" ]; then
  export INGEST_REPLICA_CONFIG="$home/etc/config.json"
fi
# DKS client material installed by the bootstrap action (--dks-cert-secret) is the one to use.
if [ -f "$home/etc/dks/client.pem" ]; then
  export DKS_CLIENT_CERT="${DKS_CLIENT_CERT:-$home/etc/dks/client.pem}"
  export DKS_CLIENT_KEY="${DKS_CLIENT_KEY:-$home/etc/dks/client-key.pem}"
  export DKS_CA_CERT="${DKS_CA_CERT:-$home/etc/dks/ca.pem}"
fi

# The bootstrap action starts the REST server in the background once HBase is installed (bootstrap actions
# run before applications are); the step must not scan before it answers. Idempotent: returns at once
# when the server answers, starts it when nothing does. This waits for the master's server only: the core
# nodes' servers are bound to 127.0.0.1 and unreachable from here; a task that finds its node's server not
# answering yet retries its calls (HBase client backoff), then fails and is retried by Spark
# (spark.task.maxFailures), see emr-config/README.md.
if [ -f "$home/etc/hbase-rest.env" ]; then
  # shellcheck disable=SC1091
  source "$home/etc/hbase-rest.env"
  log 30 "waiting for the HBase REST server on port ${HBASE_REST_PORT:-8080}"
  if ! "$home/bootstrap/ensure-hbase-rest.sh" --port "${HBASE_REST_PORT:-8080}" \
      --info-port "${HBASE_REST_INFO_PORT:-8085}" ${HBASE_REST_HEAP:+--heap "$HBASE_REST_HEAP"} \
      --timeout "${INGEST_REST_WAIT_SECONDS:-900}" >>"$rest_log" 2>&1; then
    # Run anyway: the CLI then fails each collection naming the endpoint, and records EMR_FAILED with that
    # reason in the status rows, which an early exit here would leave for the trigger's reconciliation.
    log 50 "the HBase REST server did not answer on port ${HBASE_REST_PORT:-8080} (see $rest_log); running anyway to record the failure"
  fi
fi

# Where HBase REST is, unless a flag, the environment or the config file says: this node's server for the
# step, each task's own node's server for the workers (the same port everywhere: one bootstrap action).
rest_url="http://127.0.0.1:${HBASE_REST_PORT:-8080}"
configured() { # <flag> <env var> <config file key>
  local flag="$1" env_name="$2" key="$3" arg
  for arg in "${run_args[@]}"; do
    [[ "$arg" == "$flag" || "$arg" == "$flag="* ]] && return 0
  done
  [ -n "${!env_name:-}" ] && return 0
  [ -n "${INGEST_REPLICA_CONFIG:-}" ] && [ -f "$INGEST_REPLICA_CONFIG" ] \
    && python3 -c 'import json,sys; sys.exit(0 if sys.argv[2] in json.load(open(sys.argv[1])) else 1)' "$INGEST_REPLICA_CONFIG" "$key" 2>/dev/null
}
run_args=("$@")
configured --hbase-rest-url HBASE_REST_URL hbaseRestUrl || export HBASE_REST_URL="$rest_url"
configured --worker-hbase-rest-url INGEST_WORKER_HBASE_REST_URL workerHbaseRestUrl || export INGEST_WORKER_HBASE_REST_URL="$rest_url"

# EMR installs Spark (the cluster's Spark application) under /usr/lib/spark; spark-submit runs from there.
export SPARK_HOME="${SPARK_HOME:-/usr/lib/spark}"
if [ ! -x "$SPARK_HOME/bin/spark-submit" ]; then
  log 40 "no spark-submit at $SPARK_HOME/bin/spark-submit: the spark engine will fail (was the cluster launched with the Spark application?)"
fi

log 30 "starting ingest-replica run ($(sed -n 's/^version=//p' "$home/VERSION" 2>/dev/null || echo unknown version))"
# V8 otherwise sizes the young generation from the machine's memory (up to 128 MB of heap on a large node);
# 8 MB semi-spaces keep the step's peak RSS under 512 MiB at no CPU cost (BENCHMARKS.md).
export NODE_OPTIONS="--max-semi-space-size=8${NODE_OPTIONS:+ $NODE_OPTIONS}"
# Buffers of 1 MiB and more (scanner responses, Parquet parts) go straight back to the OS when freed, instead
# of fragmenting glibc's heaps: ~60 MiB less peak RSS (BENCHMARKS.md).
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}"
# exec: EMR's signals (step cancellation sends SIGTERM) reach the CLI, which stops and marks statuses.
exec "$node" --enable-source-maps "$cli" run "$@"
