# syntax=docker/dockerfile:1
# Spillway's image: the compiled `spillway` CLI on Node 24, one image for every process
# (`spillway federation|router|controller`, as `spillway manifests` runs them). See docs/kubernetes.md.
#
#   docker build -t spillway:0.1.0 .
#
# The build stage runs the same install and build as the tests and CI (`npm ci`, whose prepare
# script is `npm run build`, then `npm run build` again, a turbo cache hit); apps/spillway/test/
# docker-image.test.ts holds this file to that.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
RUN npm run build
# The runtime needs the bundle (apps/spillway/dist) and third-party dependencies only: dev tools
# (TypeScript, vitest, turbo, esbuild, the pinned Node package: the image has its own Node) go.
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOME=/var/lib/spillway
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/apps/spillway/package.json ./apps/spillway/package.json
COPY --from=build /app/apps/spillway/bin ./apps/spillway/bin
COPY --from=build /app/apps/spillway/dist ./apps/spillway/dist
# Writable at run time: $HOME (a generated admin token when no tokens are configured) and the
# router's catalog snapshot. Kubernetes mounts an emptyDir here; the root filesystem stays read-only.
RUN mkdir -p /var/lib/spillway && chown 1000:1000 /var/lib/spillway
# The node image's `node` user, by number so that runAsNonRoot can check it.
USER 1000:1000
ENTRYPOINT ["node", "/app/apps/spillway/bin/spillway.js"]
CMD ["--help"]
