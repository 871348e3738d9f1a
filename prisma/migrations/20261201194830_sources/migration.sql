-- AlterTable
ALTER TABLE "RejectedEvent" ADD COLUMN     "headers" JSONB,
ADD COLUMN     "reason" TEXT NOT NULL DEFAULT 'invalid_field',
ADD COLUMN     "sourceId" TEXT;

-- CreateTable
CREATE TABLE "Source" (
    "sourceId" TEXT NOT NULL,
    "adapter" TEXT NOT NULL,
    "secret" TEXT,
    "profile" JSONB NOT NULL,
    "statusMap" JSONB NOT NULL,
    "mapping" JSONB,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Source_pkey" PRIMARY KEY ("sourceId")
);

-- CreateTable
CREATE TABLE "IgnoredEvent" (
    "id" TEXT NOT NULL,
    "sourceId" TEXT,
    "eventId" TEXT,
    "orderId" TEXT,
    "sourceStatus" TEXT,
    "reason" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IgnoredEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "IgnoredEvent_sourceId_receivedAt_idx" ON "IgnoredEvent"("sourceId", "receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "IgnoredEvent_sourceId_eventId_key" ON "IgnoredEvent"("sourceId", "eventId");

-- CreateIndex
CREATE INDEX "OrderEvent_source_idx" ON "OrderEvent"("source");

-- CreateIndex
CREATE INDEX "RejectedEvent_sourceId_receivedAt_idx" ON "RejectedEvent"("sourceId", "receivedAt");
