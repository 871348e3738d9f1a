-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "address" TEXT,
ADD COLUMN     "clickedAt" TIMESTAMP(3),
ADD COLUMN     "openedAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "DeliveryAttempt" ADD COLUMN     "address" TEXT;

-- AlterTable
ALTER TABLE "DeadLetter" ADD COLUMN     "address" TEXT;

-- CreateTable
CREATE TABLE "NotificationReceipt" (
    "id" TEXT NOT NULL,
    "notificationId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "detail" JSONB,
    "dedupeKey" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NotificationReceipt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "NotificationReceipt_dedupeKey_key" ON "NotificationReceipt"("dedupeKey");

-- CreateIndex
CREATE INDEX "NotificationReceipt_notificationId_occurredAt_idx" ON "NotificationReceipt"("notificationId", "occurredAt");

-- CreateIndex
CREATE INDEX "DeliveryAttempt_providerMessageId_idx" ON "DeliveryAttempt"("providerMessageId");

-- CreateIndex
CREATE INDEX "DeadLetter_notificationId_idx" ON "DeadLetter"("notificationId");

-- AddForeignKey
ALTER TABLE "NotificationReceipt" ADD CONSTRAINT "NotificationReceipt_notificationId_fkey" FOREIGN KEY ("notificationId") REFERENCES "Notification"("id") ON DELETE CASCADE ON UPDATE CASCADE;
