#!/usr/bin/env bash
# EMR bootstrap action: installs the ingest-replica artifact (scripts/bundle.sh) on every node, and on every
# node arranges for the HBase REST server (bound to 127.0.0.1) that the step (master) or the Spark tasks
# (core nodes) on that node read through.
#
# Usage (BootstrapActions[].ScriptBootstrapAction: Path = s3://<artifacts>/emr-config/bootstrap/install-ingest-replica.sh):
#   install-ingest-replica.sh <artifact-s3-uri> [<sha256> | -] [options]
#     <artifact-s3-uri>          s3://<artifacts>/ingest-replica/ingest-replica-<version>.tar.gz
#     <sha256>                   the artifact's SHA-256 (hex); '-' or absent: read <artifact-s3-uri>.sha256
#     --config <s3-uri>          JSON settings file for the CLI (see README "Pointing the CLI somewhere
#                                else"), installed as /opt/ingest-replica/etc/config.json
#     --dks-cert-secret <id>     Secrets Manager secret whose SecretString is {"cert","key","ca"} (PEM):
#                                the DKS client certificate, its key and the DKS CA, installed under
#                                /opt/ingest-replica/etc/dks/ (readable by the step's user and group: the
#                                Spark tasks' workers call DKS too)
#     --rest-port <n>            HBase REST port on every node (default 8080; the CLI's HBASE_REST_URL and
#                                INGEST_WORKER_HBASE_REST_URL name it)
#     --rest-info-port <n>       the REST server's info UI port (default 8085)
#     --rest-heap <size>         the REST server's Java heap, e.g. 1g (default: hbase-env.sh's)
#     --no-rest                  do not start an HBase REST server
#     --install-dir <dir>        where to install (default /opt/ingest-replica; the step runs
#                                <dir>/steps/run-step.sh)
#
# What it does: downloads the artifact with `aws s3 cp`, checks its SHA-256, picks the Node runtime by
# `uname -m` (x86_64 → linux-x64, aarch64 → linux-arm64), installs to /opt/ingest-replica (replacing an
# older install atomically; a rerun with the same artifact changes nothing), and on every node starts, in
# the background, a waiter that starts the REST server once EMR has installed HBase and waits until it
# answers (bootstrap actions run before applications are installed: waiting here would block provisioning).
# Logs: /var/log/ingest-replica/bootstrap.log (and this action's stdout); the REST waiter:
# /var/log/ingest-replica/hbase-rest.log.
set -euo pipefail

home="${INGEST_REPLICA_INSTALL:-/opt/ingest-replica}"
log_dir="${INGEST_REPLICA_LOG_DIR:-/var/log/ingest-replica}"
instance_info="${EMR_INSTANCE_INFO:-/mnt/var/lib/info/instance.json}"
step_user="$(id -un)"
step_group="$(id -gn)"

log() { printf '%s install-ingest-replica %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
die() { log "ERROR $*"; exit 1; }
usage() { sed -n '6,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
case " $* " in *" -h "*|*" --help "*) usage; exit 0 ;; esac

sudo install -d -m 0755 -o "$step_user" -g "$step_group" "$log_dir"
exec > >(tee -a "$log_dir/bootstrap.log") 2>&1

# ─── arguments ───────────────────────────────────────────────────────────────────────────────────────
artifact_uri=""
sha256=""
config_uri=""
dks_secret=""
rest=yes
rest_port=8080
rest_info_port=8085
rest_heap=""
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) [ $# -ge 2 ] || die "--config needs an s3:// URI"; config_uri="$2"; shift ;;
    --dks-cert-secret) [ $# -ge 2 ] || die "--dks-cert-secret needs a secret id"; dks_secret="$2"; shift ;;
    --rest-port) rest_port="${2:-}"; shift ;;
    --rest-info-port) rest_info_port="${2:-}"; shift ;;
    --rest-heap) rest_heap="${2:-}"; shift ;;
    --no-rest) rest=no ;;
    --install-dir) [[ "${2:-}" == /?* ]] || die "--install-dir needs an absolute path"; home="${2%/}"; shift ;;
    --*) usage; die "unknown option $1" ;;
    *) positional+=("$1") ;;
  esac
  shift
done
if [ "${#positional[@]}" -lt 1 ] || [ "${#positional[@]}" -gt 2 ]; then
  usage
  die "give the artifact's s3:// URI and optionally its sha256"
fi
artifact_uri="${positional[0]}"
sha256="${positional[1]:--}"
[[ "$artifact_uri" == s3://* ]] || die "the artifact must be an s3:// URI, got '$artifact_uri'"
[[ -z "$config_uri" || "$config_uri" == s3://* ]] || die "--config must be an s3:// URI, got '$config_uri'"
[[ "$rest_port" =~ ^[0-9]+$ && "$rest_info_port" =~ ^[0-9]+$ ]] || die "--rest-port and --rest-info-port need numbers"
[[ -z "$rest_heap" || "$rest_heap" =~ ^[0-9]+[mMgG]$ ]] || die "--rest-heap needs a size such as 512m or 1g, got '$rest_heap'"

region() {
  if [ -n "${AWS_REGION:-${AWS_DEFAULT_REGION:-}}" ]; then echo "${AWS_REGION:-$AWS_DEFAULT_REGION}"; return; fi
  local token
  token="$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)" \
    || die "no AWS region: set AWS_REGION or run on EC2 (instance metadata unreachable)"
  curl -sf -m 5 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/placement/region
}
node_role() {
  if [ -f "$instance_info" ] && grep -Eq '"isMaster"[[:space:]]*:[[:space:]]*true' "$instance_info"; then echo master; else echo core/task; fi
}

log "installing $artifact_uri into $home"
workdir="$(mktemp -d "${TMPDIR:-/tmp}/ingest-replica-install.XXXXXX")"
trap 'rm -rf "$workdir"' EXIT

if [ "$sha256" = "-" ]; then
  sha256="$(aws s3 cp --only-show-errors "$artifact_uri.sha256" - | cut -d' ' -f1)" || die "cannot read $artifact_uri.sha256"
fi
sha256="$(printf '%s' "$sha256" | tr 'A-F' 'a-f')"
[[ "$sha256" =~ ^[0-9a-f]{64}$ ]] || die "invalid sha256 '$sha256'"

case "$(uname -m)" in
  x86_64|amd64) runtime=linux-x64 ;;
  aarch64|arm64) runtime=linux-arm64 ;;
  *) die "no Node runtime for architecture $(uname -m)" ;;
esac

# ─── install (skipped when this exact artifact is already installed) ────────────────────────────────
if [ "$(cat "$home/.artifact-sha256" 2>/dev/null || true)" = "$sha256" ] && "$home/node/bin/node" --version >/dev/null 2>&1; then
  log "artifact $sha256 is already installed: nothing to do"
else
  aws s3 cp --only-show-errors "$artifact_uri" "$workdir/artifact.tar.gz" || die "cannot download $artifact_uri"
  actual="$(sha256sum "$workdir/artifact.tar.gz" | cut -d' ' -f1)"
  [ "$actual" = "$sha256" ] || die "sha256 mismatch for $artifact_uri: expected $sha256, got $actual"

  stage="$home.new.$$"
  sudo rm -rf "$stage"
  sudo mkdir -p "$stage"
  sudo tar -xzf "$workdir/artifact.tar.gz" -C "$stage" --no-same-owner
  [ -x "$stage/runtimes/$runtime/node/bin/node" ] \
    || { sudo rm -rf "$stage"; die "the artifact has no $runtime Node runtime (built with --no-runtimes?)"; }
  sudo mv "$stage/runtimes/$runtime/node" "$stage/node"
  sudo rm -rf "$stage/runtimes"
  node_version="$("$stage/node/bin/node" --version)" || { sudo rm -rf "$stage"; die "the $runtime Node runtime does not run here"; }
  (cd "$stage" && "$stage/node/bin/node" dist/ingest-replica.js --help >/dev/null) \
    || { sudo rm -rf "$stage"; die "the installed CLI does not start"; }
  printf '%s\n' "$sha256" | sudo tee "$stage/.artifact-sha256" >/dev/null
  sudo chown -R root:root "$stage"
  sudo chmod -R go-w "$stage"
  # Swap in one rename, so a node never sees half an install.
  if [ -e "$home" ]; then sudo mv "$home" "$home.old.$$"; fi
  sudo mv "$stage" "$home"
  sudo rm -rf "$home.old.$$"
  log "installed $(sed -n 's/^version=//p' "$home/VERSION") ($runtime, Node $node_version)"
fi

# ─── configuration ───────────────────────────────────────────────────────────────────────────────────
sudo install -d -m 0755 -o root -g root "$home/etc"
if [ -n "$config_uri" ]; then
  aws s3 cp --only-show-errors "$config_uri" "$workdir/config.json" || die "cannot download $config_uri"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d, dict), "not an object"' "$workdir/config.json" \
    || die "$config_uri is not a JSON object of settings"
  sudo install -m 0644 -o root -g root "$workdir/config.json" "$home/etc/config.json"
  log "installed settings from $config_uri"
fi

if [ -n "$dks_secret" ]; then
  # The private key never passes through a command line or this log; files are the step user's only.
  old_umask="$(umask)"
  umask 077
  aws secretsmanager get-secret-value --region "$(region)" --secret-id "$dks_secret" \
      --query SecretString --output text > "$workdir/dks.json" || die "cannot read secret $dks_secret"
  python3 - "$workdir/dks.json" "$workdir" <<'EOF' || die "secret $dks_secret must be JSON with PEM strings cert, key and ca"
import json, sys
secret = json.load(open(sys.argv[1]))
for name, file in (("cert", "client.pem"), ("key", "client-key.pem"), ("ca", "ca.pem")):
    value = secret[name]
    assert isinstance(value, str) and "-----BEGIN" in value, name
    with open(f"{sys.argv[2]}/{file}", "w") as out:
        out.write(value if value.endswith("\n") else value + "\n")
EOF
  # Readable by the step's group as well: the Spark tasks' Node workers (YARN containers on the core nodes,
  # run as the yarn user, a member of the hadoop group on EMR) call DKS with the same certificate.
  sudo install -d -m 0750 -o "$step_user" -g "$step_group" "$home/etc/dks"
  for file in client.pem client-key.pem ca.pem; do
    sudo install -m 0440 -o "$step_user" -g "$step_group" "$workdir/$file" "$home/etc/dks/$file"
  done
  rm -f "$workdir/dks.json" "$workdir"/*.pem
  umask "$old_umask"
  log "installed the DKS client certificate, key and CA from secret $dks_secret into $home/etc/dks/"
fi

# ─── HBase REST server (every node) ──────────────────────────────────────────────────────────────────
# The master's serves the step (regions, planning); each core node's serves the Spark tasks YARN runs there,
# which read http://127.0.0.1:<port> (REST scanners are state in one server: a task uses its own node's).
if [ "$rest" = yes ]; then
  printf 'HBASE_REST_PORT=%s\nHBASE_REST_INFO_PORT=%s\nHBASE_REST_HEAP=%s\n' "$rest_port" "$rest_info_port" "$rest_heap" \
    | sudo tee "$home/etc/hbase-rest.env" >/dev/null
  sudo chmod 0644 "$home/etc/hbase-rest.env"
  nohup setsid "$home/bootstrap/ensure-hbase-rest.sh" --port "$rest_port" --info-port "$rest_info_port" \
    ${rest_heap:+--heap "$rest_heap"} --timeout 3600 --wait-install >> "$log_dir/hbase-rest.log" 2>&1 < /dev/null &
  log "$(node_role) node: the HBase REST server will start on 127.0.0.1:$rest_port once HBase is installed (pid $!, log $log_dir/hbase-rest.log)"
fi
log "done"
