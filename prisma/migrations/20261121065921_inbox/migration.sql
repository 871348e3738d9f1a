-- CreateTable
CREATE TABLE "InboxMessage" (
    "id" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "notificationId" TEXT,
    "orderId" TEXT,
    "category" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readAt" TIMESTAMP(3),

    CONSTRAINT "InboxMessage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "InboxMessage_notificationId_key" ON "InboxMessage"("notificationId");

-- CreateIndex
CREATE INDEX "InboxMessage_customerId_readAt_createdAt_id_idx" ON "InboxMessage"("customerId", "readAt", "createdAt" DESC, "id");

-- AddForeignKey
ALTER TABLE "InboxMessage" ADD CONSTRAINT "InboxMessage_customerId_fkey" FOREIGN KEY ("customerId") REFERENCES "Customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;
