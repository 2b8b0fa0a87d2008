# syntax=docker/dockerfile:1
# ingest-replica images. Two targets from one build:
#   cli     (the default, last stage)  docker build -t ingest-replica .
#           docker run --rm ingest-replica status --json      (ENTRYPOINT is the CLI; CMD defaults to --help)
#   lambda  docker build --target lambda -t ingest-replica-lambda .
#           a Lambda container image (AWS's Node 24 base with the runtime interface client). Its CMD is the
#           trigger handler; the purge function uses the same image with ImageConfig.Command set to
#           ["dist/src/handlers/purge-metadata.handler"].
# Both: compiled with dev dependencies in `build`, shipped with production dependencies only, run as a
# non-root user. The EMR step does not use an image: it runs the bundle (`make bundle`).

ARG NODE_IMAGE=node:24-bookworm-slim
ARG LAMBDA_IMAGE=public.ecr.aws/lambda/nodejs:24

# ─── build: TypeScript → dist/ ───────────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# ─── production dependencies only (no install scripts: none of them needs one) ───────────────────────
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-fund --no-audit && npm cache clean --force

# ─── lambda: the trigger and purge handlers ──────────────────────────────────────────────────────────
FROM ${LAMBDA_IMAGE} AS lambda
ENV NODE_ENV=production
# package.json ("type": "module") makes dist/ ESM for the runtime and is the project root the code resolves
# emr-config/cluster (the launch templates) from.
COPY package.json ${LAMBDA_TASK_ROOT}/
COPY --from=prod-deps /app/node_modules ${LAMBDA_TASK_ROOT}/node_modules
COPY --from=build /app/dist/src ${LAMBDA_TASK_ROOT}/dist/src
COPY emr-config ${LAMBDA_TASK_ROOT}/emr-config
COPY steps ${LAMBDA_TASK_ROOT}/steps
# Lambda runs the function as its own unprivileged user, whatever USER says; the code only needs to read
# these files (world-readable as copied) and write nowhere but /tmp.
CMD ["dist/src/handlers/trigger.handler"]

# ─── cli: the command line (default target) ──────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS cli
ENV NODE_ENV=production
# Large buffers go back to the OS when freed (bounded memory; steps/run-step.sh, BENCHMARKS.md).
ENV MALLOC_MMAP_THRESHOLD_=1048576
WORKDIR /app
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY emr-config ./emr-config
COPY steps ./steps
# The image's files stay root-owned and read-only to the process; `node` (uid 1000) comes with the base image.
USER node
ENTRYPOINT ["node", "--enable-source-maps", "--max-semi-space-size=8", "/app/dist/src/cli/main.js"]
CMD ["--help"]
