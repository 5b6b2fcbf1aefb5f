# syntax=docker/dockerfile:1
# Gatehouse: build with the dev toolchain, run with production dependencies only, as non-root.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY bin ./bin
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json schema.graphql codegen.ts ./
COPY src ./src
COPY migrations ./migrations
COPY web ./web
# The service, then the console (GraphQL Code Generator's check and Vite, dev dependencies both).
RUN npm run build --silent

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    GATEHOUSE_HOST=0.0.0.0 \
    GATEHOUSE_PORT=3000 \
    GATEHOUSE_DATA_DIR=/var/lib/gatehouse \
    GATEHOUSE_POLICIES_DIR=/app/policies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: no prepare/build here, and onnxruntime-node's CPU binaries ship inside the package.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && mkdir -p /var/lib/gatehouse && chown node:node /var/lib/gatehouse
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY bin ./bin
COPY policies ./policies
COPY data ./data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:3000/v2/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# bin/gatehouse.js starts `serve` with the service's Node.js flags (docs/inference.md, "Running
# it"), restarting itself in place with them: the container's main process keeps its pid.
ENTRYPOINT ["node", "bin/gatehouse.js"]
CMD ["serve"]
