-- CreateEnum
CREATE TYPE "CartStatus" AS ENUM ('open', 'checked_out', 'emptied', 'ordered', 'abandoned');

-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "cartEventId" TEXT,
ADD COLUMN     "cartId" TEXT;

-- AlterTable
ALTER TABLE "OrderEvent" ADD COLUMN     "cartSignalDue" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "Cart" (
    "cartId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "status" "CartStatus" NOT NULL DEFAULT 'open',
    "items" JSONB NOT NULL,
    "currency" TEXT NOT NULL,
    "total" DECIMAL(14,4) NOT NULL,
    "recoveryUrl" TEXT,
    "lastUpdatedAt" TIMESTAMP(3) NOT NULL,
    "lastEventId" TEXT NOT NULL,
    "closedAt" TIMESTAMP(3),
    "closedReason" TEXT,
    "convertedAt" TIMESTAMP(3),
    "convertedOrderId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Cart_pkey" PRIMARY KEY ("cartId")
);

-- CreateTable
CREATE TABLE "CartEvent" (
    "eventId" TEXT NOT NULL,
    "cartId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "items" JSONB NOT NULL,
    "currency" TEXT NOT NULL,
    "total" DECIMAL(14,4) NOT NULL,
    "recoveryUrl" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "signalledAt" TIMESTAMP(3),

    CONSTRAINT "CartEvent_pkey" PRIMARY KEY ("eventId")
);

-- CreateIndex
CREATE INDEX "Cart_customerId_status_idx" ON "Cart"("customerId", "status");

-- CreateIndex
CREATE INDEX "CartEvent_cartId_receivedAt_idx" ON "CartEvent"("cartId", "receivedAt");

-- CreateIndex
CREATE INDEX "CartEvent_signalledAt_receivedAt_idx" ON "CartEvent"("signalledAt", "receivedAt");

-- CreateIndex
CREATE INDEX "Notification_cartId_createdAt_idx" ON "Notification"("cartId", "createdAt");

-- CreateIndex
CREATE INDEX "OrderEvent_cartSignalDue_receivedAt_idx" ON "OrderEvent"("cartSignalDue", "receivedAt");

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_cartEventId_fkey" FOREIGN KEY ("cartEventId") REFERENCES "CartEvent"("eventId") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CartEvent" ADD CONSTRAINT "CartEvent_cartId_fkey" FOREIGN KEY ("cartId") REFERENCES "Cart"("cartId") ON DELETE RESTRICT ON UPDATE CASCADE;
