# syntax=docker/dockerfile:1
# Latchkey on the embedded store:
#   docker build -t latchkey . && docker run -p 8080:8080 -v latchkey-data:/var/lib/latchkey latchkey
# The root token is printed once, on the first start with an empty data volume (see docker logs).
# With Postgres, also pass -e DATABASE_URL=postgresql://... -e LATCHKEY_MASTER_KEY=$(openssl rand -base64 32).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- toolchain: what compiling argon2 needs ----
# argon2 0.45's prebuilt binary requires Node-API 10 (Node >= 22.14) and crashes Node 20 on load,
# so its install step compiles it from source here. The image's own headers are used (nodedir).
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# prisma generate cannot download its schema engine offline and does not need it; any existing
# file lets it proceed (see package.json "generate").
ENV npm_config_nodedir=/usr/local \
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/false
WORKDIR /app

# ---- build: all dependencies, generated Prisma client, TypeScript compiled to dist/ ----
FROM toolchain AS build
# The install runs `prisma generate` (postinstall), which reads the schema and prisma.config.ts.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma/schema.prisma prisma/schema.prisma
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
# The client generated into src/generated is compiled into dist/src/generated with the rest.
RUN npm run build

# ---- production dependencies only ----
FROM toolchain AS production-deps
COPY package.json package-lock.json ./
# --ignore-scripts: no prisma generate (the client is in dist/) and no engine downloads; argon2 is
# the one package whose install step is needed, so it alone is rebuilt.
# --omit=optional: @prisma/client declares the Prisma CLI and TypeScript as optional peers. Both
# are dev dependencies here, so npm marks them (and Prisma Studio, React, effect, ...) "devOptional",
# which --omit=dev alone keeps: 402 MB of node_modules instead of 145 MB. No runtime dependency
# needs an optional package on Linux (pg's only one is pg-cloudflare, for Cloudflare Workers).
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm rebuild argon2 \
 && test ! -e node_modules/prisma && test ! -e node_modules/typescript \
 && npm cache clean --force

# ---- runtime: no compiler, no dev dependencies, runs as `node` ----
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# package.json marks dist/**/*.js as ES modules ("type": "module").
COPY package.json ./
COPY --from=production-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
# The CLI: bin/latchkey.js runs dist/src/cli/main.js (no src/ and no tsx here).
COPY bin bin
RUN ln -s /app/bin/latchkey.js /usr/local/bin/latchkey
# The migrator finds prisma/migrations at the package root (dist/src/store/../../../prisma).
COPY prisma/migrations prisma/migrations
# Fail the build, not the first login, if the native argon2 binding does not load here.
RUN node --input-type=module -e "import argon2 from 'argon2'; await argon2.verify(await argon2.hash('smoke-test'), 'smoke-test');"

# The embedded database and the generated master key live in the data directory: keep it on a
# volume and back it up (or use Postgres with DATABASE_URL and LATCHKEY_MASTER_KEY).
RUN mkdir -p /var/lib/latchkey && chown node:node /var/lib/latchkey && chmod 700 /var/lib/latchkey
# One malloc arena per argon2 worker thread (glibc's default) holds 50-70 MB of RSS for nothing,
# and V8 sizes its heap from the memory it sees, often the host's: both bounded as npm start does.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS=--max-old-space-size=512 \
    LATCHKEY_DATA_DIR=/var/lib/latchkey
VOLUME /var/lib/latchkey
USER node
EXPOSE 8080

# Slim images have no curl; node's fetch does the probe. /readyz answers 503 while the store is
# down, so an orchestrator stops routing to a replica that cannot serve. The first start
# initializes the embedded database, hence the start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node runs as PID 1 and handles SIGTERM itself: src/server.ts stops accepting, finishes in-flight
# requests (up to 10 s), closes the store and exits. `docker stop` waits 10 s by default; give it
# more (--time 15) under load.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
