# One image for every part; the first argument picks the entry (ops/docker_entry.sh):
#   docker run inlay directory            docker run inlay server @alice ...
#   docker run inlay relay @relay ...     docker run inlay client get phone.wavi --as @alice
# A whole system on one machine: compose.yaml. The entries are bundled by ops/build.ts (minified, shared chunks):
# no node_modules in the image, faster start, and much less resident memory per service than running the
# TypeScript sources (`bun bench.ts memory`).
FROM oven/bun:1.4.5-slim AS build
WORKDIR /src
COPY package.json bun.lock ./
# Production dependencies only: the bundle needs hono, zod and @noble; the dev tools (deno, typescript) stay out.
RUN bun install --frozen-lockfile --production
COPY . .
RUN bun ops/build.ts /dist

FROM oven/bun:1.4.5-slim
WORKDIR /app
# BUN_JSC_thresholdForJITAfterWarmUp: see PRODUCTION_ENV in ops/build.ts (less memory for code run only at start).
ENV NODE_ENV=production INLAY_HOME=/data BUN_JSC_thresholdForJITAfterWarmUp=10000
COPY --from=build /dist ./
COPY ops/docker_entry.sh /app/entry.sh
# The folders compose.yaml mounts volumes on exist here, owned by the service user, so a new volume is writable.
RUN useradd --system --uid 10001 --home-dir /data inlay \
  && mkdir -p /data/ca /data/directory /data/servers /data/.atsign/keys && chown -R inlay /data
USER inlay
VOLUME /data
# No variable needed: the check finds the service's port from its command line (ops/healthcheck.ts).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["bun", "/app/ops/healthcheck.js"]
ENTRYPOINT ["/bin/sh", "/app/entry.sh"]
CMD ["directory", "--help"]
