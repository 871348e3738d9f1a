-- DropIndex
DROP INDEX "Device_deviceId_key";

-- CreateTable
CREATE TABLE "DeviceTransfer" (
    "id" TEXT NOT NULL,
    "deviceId" TEXT NOT NULL,
    "field" TEXT NOT NULL,
    "fromCustomerId" TEXT NOT NULL,
    "toCustomerId" TEXT NOT NULL,
    "movedBy" TEXT NOT NULL,
    "movedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DeviceTransfer_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DeviceTransfer_fromCustomerId_movedAt_idx" ON "DeviceTransfer"("fromCustomerId", "movedAt");

-- CreateIndex
CREATE INDEX "DeviceTransfer_toCustomerId_movedAt_idx" ON "DeviceTransfer"("toCustomerId", "movedAt");

-- CreateIndex
CREATE INDEX "Device_deviceId_idx" ON "Device"("deviceId");

-- CreateIndex
CREATE UNIQUE INDEX "Device_customerId_deviceId_key" ON "Device"("customerId", "deviceId");
