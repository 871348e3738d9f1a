# Herald API and worker image (one image, two commands: see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Two malloc arenas instead of eight per core (dev/processes.ts HERALD_PROCESS_ENV).
ENV MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
COPY prisma ./prisma
COPY prisma.config.ts ./
COPY lib/database-url.ts ./lib/database-url.ts
# npm install rather than npm ci: see .ci/run about npm 11's lock files.
RUN npm install --omit=dev --no-audit --no-fund
COPY . .
# The workflow code is bundled once here, so a worker starts without running webpack (workers/workflow-source.ts).
RUN npm run bundle -- /app/dist/workflow-bundle.js
ENV HERALD_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
EXPOSE 3000 9464
CMD ["node", "--heap-growing-percent=50", "--max-semi-space-size=4", "--liftoff-only", "--require", "tsx/cjs", "api/main.ts"]
