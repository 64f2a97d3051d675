# One image for every part; the first argument picks the entry:
#   docker run inlay directory            docker run inlay server @alice
#   docker run inlay relay @relay         docker run inlay client get phone.wavi --as @alice
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim
WORKDIR /app
ENV NODE_ENV=production INLAY_HOME=/data
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json bunfig.toml *.ts ./
COPY core ./core
COPY directory ./directory
COPY server ./server
COPY relay ./relay
COPY client ./client
COPY ops ./ops
RUN useradd --system --uid 10001 --home-dir /data inlay && mkdir -p /data && chown inlay /data
USER inlay
VOLUME /data
# Set INLAY_PORT to the service's port so the check knows where to knock (e.g. 64 for the directory).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["bun", "ops/healthcheck.ts"]
ENTRYPOINT ["/bin/sh", "-c", "entry=\"$1\"; shift; exec bun \"/app/$entry.ts\" \"$@\"", "inlay"]
CMD ["directory", "--help"]
