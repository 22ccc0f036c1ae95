-- Columns nothing reads: an API key's revocation is its status (the audit event records when), and
-- signing keys are never retired by a column (a cluster signing key is superseded by a newer
-- activate_at; the access-token key is kept).
ALTER TABLE "api_keys" DROP COLUMN "revoked_at";
ALTER TABLE "signing_keys" DROP COLUMN "retired_at";
