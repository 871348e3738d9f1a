-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "heldUntil" TIMESTAMP(3),
ADD COLUMN     "holdReason" TEXT,
ADD COLUMN     "replacedBy" TEXT;

-- CreateTable
CREATE TABLE "FrequencyCounter" (
    "customerId" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "category" TEXT NOT NULL,
    "windowSeconds" INTEGER NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "FrequencyCounter_pkey" PRIMARY KEY ("customerId","channel","category","windowSeconds","windowStart")
);

-- CreateTable
CREATE TABLE "FrequencyClaim" (
    "notificationId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "allowed" BOOLEAN NOT NULL,
    "rule" TEXT,
    "claimedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FrequencyClaim_pkey" PRIMARY KEY ("notificationId")
);
