-- CreateEnum
CREATE TYPE "access_key_protocol" AS ENUM ('simple', 'fluvio');

-- CreateTable
CREATE TABLE "access_keys" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "protocol" "access_key_protocol" NOT NULL DEFAULT 'simple',
    "topic" TEXT,
    "consume" BOOLEAN NOT NULL DEFAULT true,
    "produce" BOOLEAN NOT NULL DEFAULT true,
    "key_filter_remote" TEXT,
    "secret_hash" TEXT NOT NULL,
    "key_hint" TEXT NOT NULL,
    "previous_secret_hash" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotated_at" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "access_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "access_keys_cluster_id_name_key" ON "access_keys"("cluster_id", "name");

-- CreateIndex
CREATE INDEX "access_keys_cluster_id_created_at_id_idx" ON "access_keys"("cluster_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "access_keys_org_id_idx" ON "access_keys"("org_id");

-- AddForeignKey
ALTER TABLE "access_keys" ADD CONSTRAINT "access_keys_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "access_keys" ADD CONSTRAINT "access_keys_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;
