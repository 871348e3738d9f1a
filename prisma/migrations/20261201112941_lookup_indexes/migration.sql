-- DropIndex
DROP INDEX "RejectedEvent_critical_receivedAt_idx";

-- CreateIndex
CREATE INDEX "OrderEvent_customerId_receivedAt_idx" ON "OrderEvent"("customerId", "receivedAt");

-- CreateIndex
CREATE INDEX "RejectedEvent_critical_receivedAt_id_idx" ON "RejectedEvent"("critical", "receivedAt", "id");
