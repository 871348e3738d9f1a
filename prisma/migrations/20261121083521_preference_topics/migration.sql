-- Preference and consent categories become text: a class (transactional, marketing) or one of its topics
-- (order-updates, promotions, cart-reminders, restock), validated against domain/preferences.ts.
-- Converted in place (Prisma's diff would drop and re-add the columns): existing rows keep their
-- 'transactional' / 'marketing' values, and PostgreSQL rebuilds the primary key.

-- DropIndex
DROP INDEX "ConsentRecord_customerId_channel_category_recordedAt_idx";

-- AlterTable
ALTER TABLE "Preference" ALTER COLUMN "category" SET DATA TYPE TEXT USING "category"::text;

-- AlterTable
ALTER TABLE "ConsentRecord" ALTER COLUMN "category" SET DATA TYPE TEXT USING "category"::text,
ADD COLUMN     "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Records kept before this migration were received when they were recorded.
UPDATE "ConsentRecord" SET "receivedAt" = "recordedAt";

-- CreateIndex
CREATE INDEX "ConsentRecord_customerId_channel_category_receivedAt_idx" ON "ConsentRecord"("customerId", "channel", "category", "receivedAt");
