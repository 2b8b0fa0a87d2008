# Sourced by scripts that need the local stack: uses it when it is up, else starts it and stops what it
# started when the calling script exits.
cli=./bin/ingest-replica
if $cli local status >/dev/null 2>&1; then
  echo "local stack already up: using it"
else
  $cli local up
  trap '$cli local down >/dev/null 2>&1 || true' EXIT
fi
