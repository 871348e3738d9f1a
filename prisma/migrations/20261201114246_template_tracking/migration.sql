-- AlterTable
ALTER TABLE "Template" ADD COLUMN     "tracking" BOOLEAN;
