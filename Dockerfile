# One image for every Scopeline process; the container command picks which one runs:
#   server (default):  bun apps/server/src/main.ts
#   worker:            bun apps/worker/src/main.ts
# ECS sets the command per service (infra/src/compute.ts), so the same tag is deployed to both.
FROM oven/bun:1.4 AS install
WORKDIR /app
# The whole workspace is needed: every workspace package.json takes part in the lockfile check.
COPY . .
# --frozen-lockfile: a build never resolves versions the repository has not reviewed.
# --production: test and benchmark tooling and the embedded PostgreSQL (devDependencies) stay out.
# --filter: only what the two apps the image runs depend on; Pulumi (infra) and the reference
# matcher are not installed. test/image/runtime-image.test.ts runs this very line and both apps.
RUN bun install --frozen-lockfile --production --filter ./apps/server --filter ./apps/worker

FROM oven/bun:1.4
WORKDIR /app
ENV NODE_ENV=production
# The app runs as the image's unprivileged `bun` user; it owns the tree so start-up files can be written.
COPY --from=install --chown=bun:bun /app /app
USER bun
EXPOSE 3000
CMD ["bun", "apps/server/src/main.ts"]
