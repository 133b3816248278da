-- CreateTable
CREATE TABLE "RunFigureBucket" (
    "runId" TEXT NOT NULL,
    "resolution" SMALLINT NOT NULL,
    "bucketStart" TIMESTAMPTZ(0) NOT NULL,
    "figures" BYTEA NOT NULL,

    CONSTRAINT "RunFigureBucket_pkey" PRIMARY KEY ("runId","resolution","bucketStart")
);

-- CreateTable
CREATE TABLE "RunHistoryCursor" (
    "runId" TEXT NOT NULL,
    "rolledTo" TIMESTAMPTZ(0) NOT NULL,

    CONSTRAINT "RunHistoryCursor_pkey" PRIMARY KEY ("runId")
);

-- AddForeignKey
ALTER TABLE "RunFigureBucket" ADD CONSTRAINT "RunFigureBucket_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RunHistoryCursor" ADD CONSTRAINT "RunHistoryCursor_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
