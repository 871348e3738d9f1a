# Herald API and worker image (one image, two commands: see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
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
CMD ["node", "--require", "tsx/cjs", "api/main.ts"]
