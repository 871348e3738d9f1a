-- CreateTable
CREATE TABLE "DeadLetter" (
    "id" TEXT NOT NULL,
    "notificationId" TEXT NOT NULL,
    "orderId" TEXT,
    "customerId" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "deviceId" TEXT,
    "provider" TEXT NOT NULL,
    "target" JSONB NOT NULL,
    "message" JSONB NOT NULL,
    "errors" JSONB NOT NULL,
    "lastError" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "replayCount" INTEGER NOT NULL DEFAULT 0,
    "replayedAt" TIMESTAMP(3),
    "replayStatus" TEXT,

    CONSTRAINT "DeadLetter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DeadLetter_createdAt_id_idx" ON "DeadLetter"("createdAt" DESC, "id");

-- CreateIndex
CREATE UNIQUE INDEX "DeadLetter_notificationId_deviceId_key" ON "DeadLetter"("notificationId", "deviceId");
