# One image for every part; the first argument picks the entry:
#   docker run inlay directory            docker run inlay server @alice
#   docker run inlay relay @relay         docker run inlay client get phone.wavi --as @alice
# The entries are bundled by ops/build.ts (minified, shared chunks): no node_modules in the image, faster start,
# and much less resident memory per service than running the TypeScript sources (`bun bench.ts memory`).
FROM oven/bun:1.4.5-slim AS build
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun ops/build.ts /dist

FROM oven/bun:1.4.5-slim
WORKDIR /app
# BUN_JSC_thresholdForJITAfterWarmUp: see PRODUCTION_ENV in ops/build.ts (less memory for code run only at start).
ENV NODE_ENV=production INLAY_HOME=/data BUN_JSC_thresholdForJITAfterWarmUp=10000
COPY --from=build /dist ./
RUN useradd --system --uid 10001 --home-dir /data inlay && mkdir -p /data && chown inlay /data
USER inlay
VOLUME /data
# Set INLAY_PORT to the service's port so the check knows where to knock (e.g. 64 for the directory).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["bun", "/app/ops/healthcheck.js"]
ENTRYPOINT ["/bin/sh", "-c", "entry=\"$1\"; shift; exec bun \"/app/$entry.js\" \"$@\"", "inlay"]
CMD ["directory", "--help"]
