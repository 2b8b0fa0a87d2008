#!/usr/bin/env bash
# The main job, end to end, on the local stack: up, seed three collections, run the step, then show what
# was published, the status rows, and how to read the Parquet back.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=./bin/ingest-replica
collections=(core:addresses accounts:claimStatements agent_core:agentToDo)

echo "== local stack"
$cli local up
echo
echo "== seed"
$cli local seed --collections 3 --records "${DEMO_RECORDS:-5000}" --keys 8 --seed demo --fresh 2>/dev/null
now=$(date +%s%3N)
id="demo-$now"
echo
echo "== run  (correlation id $id; JSON logs in .local/logs/demo-run.log)"
mkdir -p .local/logs
status=0
$cli run --correlation-id "$id" --triggered-time "$now" --end-time "$now" --collections "${collections[@]}" \
  2>.local/logs/demo-run.log | tee .local/logs/demo-summary.jsonl || status=$?
echo
echo "== published (only folders with a manifest)"
$cli output list
echo
echo "== job status (intraday-job-status)"
$cli status --collection "${collections[@]}" --runs 2
first=$($cli output list 2>/dev/null | awk '/\.parquet/ {print $1; exit}')
echo
echo "== read the Parquet back"
echo "$cli output show $first --limit 3"
$cli output show "$first" --limit 1 | cut -c1-300
echo "…"
echo
echo "== SQL over the Glue tables (each published run is a partition; DuckDB reads the parts, the latest view as \`ddl\` prints it)"
node --import ./bench/resolve-ts.ts bench/demo-query.ts "${collections[@]}" || status=$?
exit $status
