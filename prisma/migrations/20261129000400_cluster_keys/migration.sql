-- Cluster keys (StreamNative-style signed JWTs) and per-organization signing keys for them.

-- Signing keys gain an organization (cluster-key keys are per organization; OAuth access-token keys
-- keep org_id NULL) and the moment a key starts signing (published in the JWKS before that).
ALTER TABLE "signing_keys" ADD COLUMN "org_id" TEXT;
ALTER TABLE "signing_keys" ADD COLUMN "activate_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "cluster_keys" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "owner_id" TEXT NOT NULL,
    "cluster_id" TEXT NOT NULL,
    "environment_id" TEXT NOT NULL,
    "kid" TEXT NOT NULL,
    "listed" BOOLEAN NOT NULL DEFAULT true,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "purge_after" TIMESTAMPTZ(3),
    "last_used_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cluster_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "signing_keys_org_id_activate_at_idx" ON "signing_keys"("org_id", "activate_at");

-- CreateIndex
CREATE INDEX "cluster_keys_org_id_created_at_id_idx" ON "cluster_keys"("org_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "cluster_keys_org_id_revoked_at_idx" ON "cluster_keys"("org_id", "revoked_at");

-- CreateIndex
CREATE INDEX "cluster_keys_owner_id_idx" ON "cluster_keys"("owner_id");

-- CreateIndex
CREATE INDEX "cluster_keys_cluster_id_idx" ON "cluster_keys"("cluster_id");

-- CreateIndex
CREATE INDEX "cluster_keys_kid_idx" ON "cluster_keys"("kid");

-- AddForeignKey
ALTER TABLE "signing_keys" ADD CONSTRAINT "signing_keys_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cluster_keys" ADD CONSTRAINT "cluster_keys_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
