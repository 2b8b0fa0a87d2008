#!/usr/bin/env bash
# Builds the self-contained artifact the EMR bootstrap action installs (emr-config/bootstrap/):
#   build/ingest-replica-<version>.tar.gz (+ .sha256), unpacked also under build/ingest-replica-<version>/
#
#   VERSION                          version, commit, Node runtime version, build epoch
#   package.json                     {"type":"module"}: marks dist/ as ESM and is the CLI's project root
#   dist/ingest-replica.js           the CLI, bundled by esbuild (ESM, platform node, target node24)
#   dist/parquet-encoder-adapter.js  the Parquet encoder thread's entry (src/sink/encoder-pool.ts loads it
#                                    from beside the bundle), bundled as a second entry
#   steps/                           the EMR step wrapper and definition
#   spark/                           the Spark engine's PySpark driver (spark-submit runs it)
#   bootstrap/, cloudwatch/          the bootstrap helpers and the CloudWatch agent configuration
#   runtimes/linux-{x64,arm64}/node  Node from the npm registry's node-linux-* packages (bin/node, LICENSE)
#
# Usage: scripts/bundle.sh [--no-runtimes] [--out DIR] [--version V] [--node-version V]
#   --no-runtimes  skip the Node runtimes (fast; for tests: the artifact is then named *-no-runtimes.tar.gz
#                  and the bootstrap action refuses it)
# Runtime packages are cached in .tools/runtimes/, so reruns do not download them again.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "bundle: $*" >&2; exit 1; }

out="$root/build"
runtimes=yes
version=""
node_version="${NODE_RUNTIME_VERSION:-24.21.0}"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-runtimes) runtimes=no ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out="$2"; shift ;;
    --out=*) out="${1#*=}" ;;
    --version) [ $# -ge 2 ] || die "--version needs a value"; version="$2"; shift ;;
    --version=*) version="${1#*=}" ;;
    --node-version) [ $# -ge 2 ] || die "--node-version needs a value"; node_version="$2"; shift ;;
    --node-version=*) node_version="${1#*=}" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
  shift
done

command -v node >/dev/null || die "node is not on PATH (run through \`make bundle\`, which provides Node 24)"
[ -x node_modules/.bin/esbuild ] || die "esbuild is missing: run \`make deps\` (npm ci) first"
[ -n "$version" ] || version="$(node -p 'require("./package.json").version')"
[[ "$version" =~ ^[0-9A-Za-z][0-9A-Za-z._-]*$ ]] || die "invalid version '$version': letters, digits, '.', '_', '-'"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
name="ingest-replica-$version"
[ "$runtimes" = yes ] || name="$name-no-runtimes"
stage="$out/$name"
artifact="$out/$name.tar.gz"
started=$(date +%s%N)

# Reproducible: timestamps come from the commit, not the clock, so one commit always packs the same bytes.
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
dirty=""
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || dirty="-dirty"
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

rm -rf "$stage" "$artifact" "$artifact.sha256"
mkdir -p "$stage/dist"

# ─── the CLI and the encoder thread ──────────────────────────────────────────────────────────────────
# Bundled CommonJS package code may call require() or read __dirname; an ESM bundle has neither, so the
# banner defines both (per output file).
banner="import { createRequire as __irCreateRequire } from 'node:module';
import { fileURLToPath as __irFileURLToPath } from 'node:url';
import { dirname as __irDirname } from 'node:path';
const require = __irCreateRequire(import.meta.url);
const __filename = __irFileURLToPath(import.meta.url);
const __dirname = __irDirname(__filename);"
node_modules/.bin/esbuild \
  ingest-replica=src/cli/main.ts \
  parquet-encoder-adapter=src/sink/parquet-encoder-adapter.ts \
  --bundle --platform=node --target=node24 --format=esm \
  --outdir="$stage/dist" --sourcemap --sources-content=false --legal-comments=external \
  --metafile="$out/$name.meta.json" --log-level=warning \
  --banner:js="$banner"

chmod 0755 "$stage/dist/ingest-replica.js"

cat > "$stage/package.json" <<EOF
{
  "name": "ingest-replica",
  "version": "$version",
  "private": true,
  "type": "module",
  "bin": { "ingest-replica": "dist/ingest-replica.js" }
}
EOF

# ─── scripts and configuration that travel with the CLI ──────────────────────────────────────────────
mkdir -p "$stage/steps" "$stage/bootstrap" "$stage/cloudwatch" "$stage/spark"
cp steps/run-step.sh steps/step-definition.json "$stage/steps/"
cp spark/driver.py spark/log4j2.properties "$stage/spark/"
cp emr-config/bootstrap/*.sh "$stage/bootstrap/"
cp emr-config/cloudwatch/agent-config.json "$stage/cloudwatch/"
chmod 0755 "$stage"/steps/*.sh "$stage"/bootstrap/*.sh

# Smoke checks with this machine's Node: the CLI starts, and the encoder thread's entry loads.
(cd "$stage" && node dist/ingest-replica.js --help >/dev/null) || die "the bundled CLI does not start"
(cd "$stage" && node --input-type=module -e "await import('./dist/parquet-encoder-adapter.js')") \
  || die "the bundled encoder entry does not load"

# ─── Node runtimes ───────────────────────────────────────────────────────────────────────────────────
elf_machine() { od -An -tx1 -j18 -N2 "$1" | tr -d ' \n'; }
if [ "$runtimes" = yes ]; then
  cache="$root/.tools/runtimes"
  mkdir -p "$cache"
  for arch in x64 arm64; do
    package="node-linux-$arch@$node_version"
    tgz="$cache/node-linux-$arch-$node_version.tgz"
    if [ ! -s "$tgz" ]; then
      echo "bundle: fetching $package (npm pack; cached in .tools/runtimes/)"
      # npm checks the tarball against the registry's integrity hash while packing it.
      (cd "$cache" && npm pack --silent "$package" >/dev/null) || die "npm pack $package failed"
    fi
    dest="$stage/runtimes/linux-$arch/node"
    mkdir -p "$dest"
    tar -xzf "$tgz" -C "$dest" --strip-components=1 package/bin/node package/LICENSE
    case "$arch:$(elf_machine "$dest/bin/node")" in
      x64:3e00|arm64:b700) ;;
      *) die "$tgz does not hold a linux-$arch ELF binary" ;;
    esac
  done
fi

{
  echo "version=$version"
  echo "commit=$commit$dirty"
  echo "built_epoch=$epoch"
  echo "node_runtime=$node_version"
  echo "runtimes=$([ "$runtimes" = yes ] && echo linux-x64,linux-arm64 || echo none)"
  echo "esbuild=$(node_modules/.bin/esbuild --version)"
} > "$stage/VERSION"

# ─── pack ────────────────────────────────────────────────────────────────────────────────────────────
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -cf - . | gzip -n -6 > "$artifact"
(cd "$out" && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")

elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
size=$(stat -c %s "$artifact")
echo "bundle: $artifact ($(( size / 1024 / 1024 )) MiB, $size bytes) in ${elapsed_ms} ms"
echo "bundle: sha256 $(cut -d' ' -f1 "$artifact.sha256")"
