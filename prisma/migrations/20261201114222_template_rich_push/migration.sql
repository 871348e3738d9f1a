-- AlterTable
ALTER TABLE "Template" ADD COLUMN     "actionCategory" TEXT,
ADD COLUMN     "actions" JSONB,
ADD COLUMN     "deepLink" TEXT,
ADD COLUMN     "imageUrl" TEXT;
