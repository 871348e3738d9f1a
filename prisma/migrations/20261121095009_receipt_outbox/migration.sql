-- AlterTable
ALTER TABLE "NotificationReceipt" ADD COLUMN     "signalDue" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE INDEX "NotificationReceipt_signalDue_receivedAt_idx" ON "NotificationReceipt"("signalDue", "receivedAt");
