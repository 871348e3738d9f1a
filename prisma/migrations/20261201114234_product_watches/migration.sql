-- CreateEnum
CREATE TYPE "WatchKind" AS ENUM ('restock', 'price_drop');

-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "productEventId" TEXT;

-- CreateTable
CREATE TABLE "Product" (
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT,
    "imageUrl" TEXT,
    "available" BOOLEAN,
    "price" DECIMAL(14,4),
    "currency" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Product_pkey" PRIMARY KEY ("sku")
);

-- CreateTable
CREATE TABLE "ProductEvent" (
    "eventId" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT,
    "imageUrl" TEXT,
    "available" BOOLEAN,
    "price" DECIMAL(14,4),
    "currency" TEXT,
    "restocked" BOOLEAN NOT NULL DEFAULT false,
    "previousPrice" DECIMAL(14,4),
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),

    CONSTRAINT "ProductEvent_pkey" PRIMARY KEY ("eventId")
);

-- CreateTable
CREATE TABLE "Watch" (
    "id" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "kind" "WatchKind" NOT NULL,
    "below" DECIMAL(14,4),
    "baselinePrice" DECIMAL(14,4),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "firedAt" TIMESTAMP(3),

    CONSTRAINT "Watch_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ProductEvent_sku_receivedAt_idx" ON "ProductEvent"("sku", "receivedAt");

-- CreateIndex
CREATE INDEX "ProductEvent_startedAt_receivedAt_idx" ON "ProductEvent"("startedAt", "receivedAt");

-- CreateIndex
CREATE INDEX "Watch_sku_kind_id_idx" ON "Watch"("sku", "kind", "id");

-- CreateIndex
CREATE INDEX "Watch_customerId_createdAt_idx" ON "Watch"("customerId", "createdAt");

-- CreateIndex
CREATE INDEX "Notification_productEventId_idx" ON "Notification"("productEventId");

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_productEventId_fkey" FOREIGN KEY ("productEventId") REFERENCES "ProductEvent"("eventId") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Watch" ADD CONSTRAINT "Watch_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "Customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;
