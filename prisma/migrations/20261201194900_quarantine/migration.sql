-- AlterTable
ALTER TABLE "RejectedEvent" ADD COLUMN     "lastReplayAt" TIMESTAMP(3),
ADD COLUMN     "originalPayload" JSONB,
ADD COLUMN     "replayCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "replayedEventId" TEXT,
ADD COLUMN     "state" TEXT NOT NULL DEFAULT 'open',
ADD COLUMN     "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "RejectedEvent_state_critical_receivedAt_id_idx" ON "RejectedEvent"("state", "critical", "receivedAt", "id");

-- CreateIndex
CREATE INDEX "RejectedEvent_state_receivedAt_id_idx" ON "RejectedEvent"("state", "receivedAt", "id");

-- CreateIndex
CREATE INDEX "RejectedEvent_source_critical_receivedAt_idx" ON "RejectedEvent"("source", "critical", "receivedAt");

-- CreateIndex
CREATE INDEX "RejectedEvent_sourceId_critical_receivedAt_idx" ON "RejectedEvent"("sourceId", "critical", "receivedAt");

-- CreateIndex
CREATE INDEX "RejectedEvent_reason_critical_receivedAt_idx" ON "RejectedEvent"("reason", "critical", "receivedAt");
