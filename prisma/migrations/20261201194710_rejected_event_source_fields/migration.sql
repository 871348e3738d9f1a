-- AlterTable
ALTER TABLE "RejectedEvent" ADD COLUMN     "headers" JSONB,
ADD COLUMN     "reason" TEXT NOT NULL DEFAULT 'invalid_field',
ADD COLUMN     "sourceId" TEXT;

-- CreateIndex
CREATE INDEX "RejectedEvent_sourceId_critical_receivedAt_idx" ON "RejectedEvent"("sourceId", "critical", "receivedAt");

-- CreateIndex
CREATE INDEX "RejectedEvent_reason_critical_receivedAt_idx" ON "RejectedEvent"("reason", "critical", "receivedAt");
