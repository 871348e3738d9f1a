# Herald API and worker image (one image, two commands). Workflows are bundled at worker start-up.
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
EXPOSE 3000
CMD ["node", "--import", "tsx", "api/main.ts"]
