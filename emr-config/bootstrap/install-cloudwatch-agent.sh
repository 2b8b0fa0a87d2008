#!/usr/bin/env bash
# EMR bootstrap action (list it FIRST, so it ships the other actions' logs too): installs the Amazon
# CloudWatch agent on every node and starts it with emr-config/cloudwatch/agent-config.json, which ships
#   - the step's JSON logs (/var/log/ingest-replica/step-*.log, the wrapper's copy of the CLI's stderr)
#                                                         → streams {instance_id}/step_<file>
#   - the bootstrap actions' logs (/var/log/ingest-replica/bootstrap*.log, hbase-rest.log, and
#     /emr/instance-controller/log/bootstrap-actions/*/stderr: what fails before a script's tee)
#                                                         → streams {instance_id}/bootstrap_<file>
# to the log group /app/ingest-replica-incremental. Each line is shipped once: EMR's own copies of the step's
# stdout/stderr (/mnt/var/log/hadoop/steps/*/) and of the bootstrap actions' stdout hold the same lines as the
# files above, so they are not shipped (they stay in the cluster's log URI on S3).
#
# Usage: install-cloudwatch-agent.sh <agent-config-s3-uri> [--retention-days N] [--log-group NAME]
#   <agent-config-s3-uri>  s3://<artifacts>/emr-config/cloudwatch/agent-config.json
#   --retention-days N     the log group's retention (one of CloudWatch's values: 1 3 5 7 14 30 60 90 120
#                          150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653; -1 = never expire);
#                          default: the file's (30)
#   --log-group NAME       another log group (default: the file's, /app/ingest-replica-incremental)
# Idempotent: a rerun reinstalls nothing and reloads the same configuration.
set -euo pipefail

log_dir="${INGEST_REPLICA_LOG_DIR:-/var/log/ingest-replica}"
agent_home=/opt/aws/amazon-cloudwatch-agent
log() { printf '%s install-cloudwatch-agent %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
die() { log "ERROR $*"; exit 1; }
case " $* " in *" -h "*|*" --help "*) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

sudo install -d -m 0755 -o "$(id -un)" -g "$(id -gn)" "$log_dir"
exec > >(tee -a "$log_dir/bootstrap-cloudwatch-agent.log") 2>&1

config_uri=""
retention=""
log_group=""
while [ $# -gt 0 ]; do
  case "$1" in
    --retention-days) retention="${2:-}"; shift ;;
    --log-group) log_group="${2:-}"; shift ;;
    --*) die "unknown option $1" ;;
    *) [ -z "$config_uri" ] || die "one configuration URI only"; config_uri="$1" ;;
  esac
  shift
done
[[ "$config_uri" == s3://* ]] || die "give the agent configuration's s3:// URI"
if [ -n "$retention" ]; then
  allowed=" -1 1 3 5 7 14 30 60 90 120 150 180 365 400 545 731 1096 1827 2192 2557 2922 3288 3653 "
  [[ "$allowed" == *" $retention "* ]] || die "--retention-days $retention is not a CloudWatch Logs retention value"
fi
[[ -z "$log_group" || "$log_group" =~ ^[A-Za-z0-9._/#-]{1,512}$ ]] || die "invalid --log-group '$log_group'"

if rpm -q amazon-cloudwatch-agent >/dev/null 2>&1; then
  log "the CloudWatch agent is installed"
else
  log "installing the CloudWatch agent"
  # Amazon Linux 2023 (EMR 7.x) carries it in its own repository.
  sudo dnf install -y -q amazon-cloudwatch-agent || sudo yum install -y -q amazon-cloudwatch-agent \
    || die "cannot install amazon-cloudwatch-agent from the distribution's repositories"
fi

workdir="$(mktemp -d "${TMPDIR:-/tmp}/ingest-replica-cwagent.XXXXXX")"
trap 'rm -rf "$workdir"' EXIT
aws s3 cp --only-show-errors "$config_uri" "$workdir/agent-config.json" || die "cannot download $config_uri"
python3 - "$workdir/agent-config.json" "$retention" "$log_group" <<'EOF' || die "$config_uri is not a CloudWatch agent configuration with logs.logs_collected.files.collect_list"
import json, sys
path, retention, group = sys.argv[1:4]
config = json.load(open(path))
entries = config["logs"]["logs_collected"]["files"]["collect_list"]
assert entries, "no collect_list entries"
for entry in entries:
    if retention:
        entry["retention_in_days"] = int(retention)
    if group:
        entry["log_group_name"] = group
json.dump(config, open(path, "w"), indent=2)
EOF

sudo install -m 0644 -o root -g root "$workdir/agent-config.json" "$agent_home/etc/ingest-replica.json"
# fetch-config replaces the agent's configuration with this file and (re)starts it.
sudo "$agent_home/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:$agent_home/etc/ingest-replica.json" \
  || die "the CloudWatch agent did not accept $config_uri"
log "the CloudWatch agent ships to $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["logs"]["logs_collected"]["files"]["collect_list"][0]["log_group_name"])' "$workdir/agent-config.json")"
