# Build stage: compile TypeScript (src and migrations) with swc.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json .swcrc nest-cli.json ./
COPY src src
COPY migrations migrations
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and compiled output only, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8443 DATA_DIR=/app/data
# Streaming runtime settings (npm run bench runs every system with these ENV lines):
# - glibc hands free memory at the top of its heap back to the kernel past 128 KiB by default, so a
#   proxy streaming 64 KiB socket buffers takes fresh, page-faulting memory on every read (measured:
#   half the websocket stream throughput). 2 MiB of slack keeps it.
# - With V8's default 16 MiB young generation, streamed buffers outlive it and are left to full
#   collections, which mark the gateway's whole heap (~35 MiB of framework) over and over: 30% of its
#   CPU during an exec stream, and half the throughput. 32 MiB lets them die young, for ~10 MiB of RSS.
ENV MALLOC_TRIM_THRESHOLD_=2097152
ENV NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8443
# Docker (and compose, swarm) mark the container unhealthy when readiness fails: the database is
# gone, or the gateway is draining. node, not curl: the slim image has no curl, and node has fetch.
# Over HTTPS when the gateway serves TLS itself: its certificate names the public host, not
# 127.0.0.1, so this one local probe skips verification.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const tls = Boolean(process.env.TLS_CERT_FILE); if (tls) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; fetch(`${tls ? 'https' : 'http'}://127.0.0.1:${process.env.PORT}/api/v1/health/ready`).then((answer) => process.exit(answer.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
