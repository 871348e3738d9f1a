-- AlterTable
ALTER TABLE "NotificationReceipt" ADD COLUMN     "relayAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "relayLastError" TEXT,
ADD COLUMN     "relayNextAttemptAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "OrderEvent" ADD COLUMN     "cartRelayAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "cartRelayLastError" TEXT,
ADD COLUMN     "cartRelayNextAttemptAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "CartEvent" ADD COLUMN     "relayAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "relayLastError" TEXT,
ADD COLUMN     "relayNextAttemptAt" TIMESTAMP(3);
