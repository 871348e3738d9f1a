-- AlterTable
ALTER TABLE "OrderEvent" ADD COLUMN     "settledByRun" TEXT;
