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
# glibc hands free memory at the top of its heap back to the kernel past 128 KiB by default. A proxy
# streaming 64 KiB socket buffers then takes fresh, page-faulting memory on every read: measured here,
# half the websocket stream throughput. 2 MiB of slack keeps it. (npm run bench runs every system with
# the MALLOC_ settings of this line.)
ENV MALLOC_TRIM_THRESHOLD_=2097152
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 8443
CMD ["node", "dist/src/main.js"]
