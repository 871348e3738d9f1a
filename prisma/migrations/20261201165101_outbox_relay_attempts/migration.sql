-- AlterTable
ALTER TABLE "OrderEvent" ADD COLUMN     "relayAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "relayLastError" TEXT,
ADD COLUMN     "relayNextAttemptAt" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "ProductEvent" ADD COLUMN     "relayAttempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "relayLastError" TEXT,
ADD COLUMN     "relayNextAttemptAt" TIMESTAMP(3);
