#!/usr/bin/env bash
# Makes sure an HBase REST server answers on this node, starting it if nothing does, and waits until it
# answers. Every node runs one (the master for the step's planning, each core node for the Spark tasks on it),
# bound to 127.0.0.1 by hbase.rest.host in hbase-site (emr-config/cluster/configurations.json): REST scanners
# live in one server, so a task must talk to its own node's server. Idempotent and safe to run concurrently
# (one starter at a time).
# Installed as /opt/ingest-replica/bootstrap/ensure-hbase-rest.sh; used by
#   - install-ingest-replica.sh, in the background with --wait-install: bootstrap actions run before EMR
#     installs HBase, so starting the server has to wait for the installation (a bootstrap action that
#     waited in the foreground would block the cluster's provisioning forever);
#   - steps/run-step.sh, in the foreground on the master, before the step scans.
#
# Usage: ensure-hbase-rest.sh [--port 8080] [--info-port 8085] [--heap SIZE] [--timeout SECONDS] [--wait-install]
#   --port          REST port (hbase.rest.port); the CLI's HBASE_REST_URL must name it (default 8080)
#   --info-port     the REST server's info web UI port (hbase.rest.info.port)
#   --heap          the REST server's Java heap, e.g. 1g (-Xmx in HBASE_REST_OPTS; default: hbase-env.sh's)
#   --timeout       give up after this many seconds (default 900), exit 1
#   --wait-install  wait for HBase to be installed instead of failing at once when it is not
# Environment: HBASE_HOME (default /usr/lib/hbase), HBASE_CONF_DIR (default /etc/hbase/conf).
set -euo pipefail

port=8080
info_port=8085
timeout=900
heap=""
wait_install=no
hbase_home="${HBASE_HOME:-/usr/lib/hbase}"
hbase_conf="${HBASE_CONF_DIR:-/etc/hbase/conf}"

log() { printf '%s ensure-hbase-rest %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
die() { log "ERROR $*"; exit 1; }
number() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 needs a number, got '$2'"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --port) number "$1" "${2:-}"; port="$2"; shift ;;
    --info-port) number "$1" "${2:-}"; info_port="$2"; shift ;;
    --heap) [[ "${2:-}" =~ ^[0-9]+[mMgG]$ ]] || die "--heap needs a size such as 512m or 1g, got '${2:-}'"; heap="$2"; shift ;;
    --timeout) number "$1" "${2:-}"; timeout="$2"; shift ;;
    --wait-install) wait_install=yes ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" ;;
  esac
  shift
done

url="http://127.0.0.1:$port/version/cluster"
deadline=$(( $(date +%s) + timeout ))
answers() { curl -sf -o /dev/null -m 5 -H 'Accept: application/json' "$url"; }
before_deadline() { [ "$(date +%s)" -lt "$deadline" ]; }

if answers; then
  log "the HBase REST server answers on port $port"
  exit 0
fi

# HBase (and its hbase user) arrive with the application installation, after the bootstrap actions.
until [ -x "$hbase_home/bin/hbase-daemon.sh" ] && [ -d "$hbase_conf" ] && id hbase >/dev/null 2>&1; do
  [ "$wait_install" = yes ] || die "HBase is not installed here ($hbase_home/bin/hbase-daemon.sh, $hbase_conf, user hbase)"
  before_deadline || die "HBase was not installed within ${timeout}s"
  sleep 10
done

# The background waiter and the step may both get here: one of them starts the server, the other waits.
exec 9>"${TMPDIR:-/tmp}/ingest-replica-hbase-rest.lock"
flock 9

# The REST server has no bind option on its command line: it binds to hbase.rest.host (default 0.0.0.0).
bind_host() {
  python3 - "$hbase_conf/hbase-site.xml" <<'EOF' 2>/dev/null || echo "0.0.0.0 (hbase-site.xml unreadable)"
import sys, xml.etree.ElementTree as ET
host = "0.0.0.0"
for prop in ET.parse(sys.argv[1]).getroot().iter("property"):
    if prop.findtext("name") == "hbase.rest.host":
        host = (prop.findtext("value") or "").strip() or host
print(host)
EOF
}

if ! answers; then
  host="$(bind_host)"
  log "starting the HBase REST server on $host:$port (info port $info_port, heap ${heap:-from hbase-env.sh}) as user hbase"
  [ "$host" = 127.0.0.1 ] || log "WARNING hbase.rest.host is $host, not 127.0.0.1: the server is reachable from other hosts"
  # Its own ident keeps its pid and log files apart from any REST server EMR itself runs. bin/hbase puts
  # HBASE_REST_OPTS after the default heap, so this -Xmx wins unless hbase-env.sh replaces HBASE_REST_OPTS.
  # hbase-daemon.sh refuses to start a second copy while the first is alive: harmless on a rerun.
  sudo -n -u hbase env HBASE_IDENT_STRING=ingest-replica ${heap:+HBASE_REST_OPTS="-Xmx$heap"} \
    "$hbase_home/bin/hbase-daemon.sh" --config "$hbase_conf" start rest -p "$port" --infoport "$info_port" \
    || log "hbase-daemon.sh start returned $? (already running?): waiting for the server to answer"
fi

until answers; do
  if ! before_deadline; then
    log "ERROR the HBase REST server did not answer on port $port within ${timeout}s; its log:"
    tail -n 50 /var/log/hbase/hbase-ingest-replica-rest-*.log 2>/dev/null || true
    exit 1
  fi
  sleep 5
done
log "the HBase REST server answers on port $port"
