-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled');

-- CreateEnum
CREATE TYPE "RecipientStatus" AS ENUM ('pending', 'sent', 'suppressed', 'failed', 'holdout', 'cancelled');

-- AlterTable
ALTER TABLE "Customer" ADD COLUMN     "country" TEXT;

-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "campaignId" TEXT,
ADD COLUMN     "experimentId" TEXT,
ADD COLUMN     "variant" TEXT;

-- CreateTable
CREATE TABLE "Segment" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "rule" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Segment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Campaign" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "segmentId" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "channels" "Channel"[],
    "templates" JSONB NOT NULL,
    "schedule" JSONB NOT NULL,
    "maxPerMinute" INTEGER,
    "experimentId" TEXT,
    "status" "CampaignStatus" NOT NULL DEFAULT 'draft',
    "targeted" INTEGER,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CampaignRecipient" (
    "campaignId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "variant" TEXT,
    "status" "RecipientStatus" NOT NULL DEFAULT 'pending',
    "dueAt" TIMESTAMP(3) NOT NULL,
    "reason" TEXT,
    "channel" "Channel",
    "notificationId" TEXT,
    "enrolledAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "settledAt" TIMESTAMP(3),

    CONSTRAINT "CampaignRecipient_pkey" PRIMARY KEY ("campaignId","customerId")
);

-- CreateTable
CREATE TABLE "Experiment" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "variants" JSONB NOT NULL,
    "control" TEXT NOT NULL,
    "holdout" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "attributionWindowSeconds" INTEGER NOT NULL DEFAULT 604800,
    "notificationType" TEXT,
    "status" TEXT NOT NULL DEFAULT 'active',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Experiment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExperimentAssignment" (
    "experimentId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "variant" TEXT NOT NULL,
    "assignedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "exposedAt" TIMESTAMP(3),

    CONSTRAINT "ExperimentAssignment_pkey" PRIMARY KEY ("experimentId","customerId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Campaign_experimentId_key" ON "Campaign"("experimentId");

-- CreateIndex
CREATE INDEX "CampaignRecipient_campaignId_status_dueAt_customerId_idx" ON "CampaignRecipient"("campaignId", "status", "dueAt", "customerId");

-- CreateIndex
CREATE INDEX "Experiment_notificationType_status_idx" ON "Experiment"("notificationType", "status");

-- CreateIndex
CREATE INDEX "ExperimentAssignment_experimentId_variant_idx" ON "ExperimentAssignment"("experimentId", "variant");

-- CreateIndex
CREATE INDEX "Notification_campaignId_status_idx" ON "Notification"("campaignId", "status");

-- CreateIndex
CREATE INDEX "Notification_experimentId_variant_idx" ON "Notification"("experimentId", "variant");

-- CreateIndex
CREATE INDEX "OrderEvent_status_customerId_occurredAt_idx" ON "OrderEvent"("status", "customerId", "occurredAt");

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_segmentId_fkey" FOREIGN KEY ("segmentId") REFERENCES "Segment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Campaign" ADD CONSTRAINT "Campaign_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignRecipient" ADD CONSTRAINT "CampaignRecipient_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "Campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentAssignment" ADD CONSTRAINT "ExperimentAssignment_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
