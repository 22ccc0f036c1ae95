-- The generation of a key's current secret: each rotation adds one. Access tokens carry the
-- generation of the secret that obtained them, so a rotation without grace ends them.
ALTER TABLE "api_keys" ADD COLUMN "secret_generation" INTEGER NOT NULL DEFAULT 1;
