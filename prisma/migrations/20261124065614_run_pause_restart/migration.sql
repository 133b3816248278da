-- AlterEnum
ALTER TYPE "RunStatus" ADD VALUE 'PAUSED';

-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "restarts" INTEGER NOT NULL DEFAULT 0;
