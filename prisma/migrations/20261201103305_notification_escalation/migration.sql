-- AlterTable
ALTER TABLE "Notification" ADD COLUMN     "escalationReason" TEXT,
ADD COLUMN     "planStep" INTEGER NOT NULL DEFAULT 0;
