-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "secretFields" TEXT[] DEFAULT ARRAY[]::TEXT[];
