-- kdb Insights deployments: a resource kind with settings, a CA per deployment, client enrollments
-- and the serials its CRL lists. The new enum value is not used in this migration: Postgres refuses
-- a value added by ALTER TYPE ... ADD VALUE before the transaction that added it commits.

-- AlterEnum
ALTER TYPE "resource_kind" ADD VALUE 'kdb_insights';

-- AlterTable
ALTER TABLE "resources" ADD COLUMN "settings" JSONB;

-- CreateTable
CREATE TABLE "certificate_authorities" (
    "resource_id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "certificate" TEXT NOT NULL,
    "private_key_encrypted" TEXT NOT NULL,
    "crl_number" BIGINT NOT NULL DEFAULT 0,
    "crl" TEXT NOT NULL,
    "crl_next_update" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "certificate_authorities_pkey" PRIMARY KEY ("resource_id")
);

-- CreateTable
CREATE TABLE "client_enrollments" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "resource_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "insert_topic" TEXT NOT NULL,
    "query_topic" TEXT NOT NULL,
    "lookup_id" TEXT NOT NULL,
    "client_id_hash" TEXT NOT NULL,
    "certificate" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "not_after" TIMESTAMPTZ(3) NOT NULL,
    "private_key_encrypted" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "client_enrollments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "revoked_certificates" (
    "resource_id" TEXT NOT NULL,
    "serial" TEXT NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "not_after" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "revoked_certificates_pkey" PRIMARY KEY ("resource_id","serial")
);

-- CreateIndex
CREATE INDEX "certificate_authorities_org_id_idx" ON "certificate_authorities"("org_id");

-- CreateIndex
CREATE UNIQUE INDEX "client_enrollments_lookup_id_key" ON "client_enrollments"("lookup_id");

-- CreateIndex
CREATE INDEX "client_enrollments_org_id_idx" ON "client_enrollments"("org_id");

-- CreateIndex
CREATE INDEX "client_enrollments_resource_id_created_at_id_idx" ON "client_enrollments"("resource_id", "created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "client_enrollments_resource_id_name_key" ON "client_enrollments"("resource_id", "name");

-- AddForeignKey
ALTER TABLE "certificate_authorities" ADD CONSTRAINT "certificate_authorities_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificate_authorities" ADD CONSTRAINT "certificate_authorities_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "client_enrollments" ADD CONSTRAINT "client_enrollments_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "client_enrollments" ADD CONSTRAINT "client_enrollments_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "resources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "revoked_certificates" ADD CONSTRAINT "revoked_certificates_resource_id_fkey" FOREIGN KEY ("resource_id") REFERENCES "certificate_authorities"("resource_id") ON DELETE CASCADE ON UPDATE CASCADE;
