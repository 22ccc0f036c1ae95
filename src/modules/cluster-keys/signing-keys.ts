import { createPublicKey, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import { open, seal } from '../../crypto/envelope.js';
import type { Prisma, SigningKey } from '../../generated/prisma/client.js';
import type { Db, Tx } from '../../store/index.js';

const CLUSTER_KEY_PURPOSE = 'cluster_key';
export const CLUSTER_KEY_ALGORITHMS = ['RS256', 'ES256'] as const;
export type ClusterKeyAlgorithm = (typeof CLUSTER_KEY_ALGORITHMS)[number];
/** Our kids: 16 base64url characters (96 random bits). Anything else is refused without I/O. */
const KID_RE = /^[A-Za-z0-9_-]{16}$/;
/** How long a well-formed kid that is not ours is answered as unknown without a row read. */
const UNKNOWN_KID_TTL_MS = 2_000;

type Key = Awaited<ReturnType<typeof importJWK>>;
export interface PublicSigningKey {
  orgId: string;
  alg: ClusterKeyAlgorithm;
  key: Key;
}

/** The kid is bound as associated data with the organization: a sealed key moved to another row fails to open. */
const sealingContext = (orgId: string, kid: string) => `signing_key:${CLUSTER_KEY_PURPOSE}:${orgId}:${kid}`;

/** Cluster-key signing keys live in signing_keys with purpose `cluster_key` and an organization. */
export const clusterSigningKeysOf = (orgId: string) => ({ orgId, purpose: CLUSTER_KEY_PURPOSE });

/** The key that signs now: the latest whose activate_at has come. */
export function activeSigningKey(db: Db | Tx, orgId: string, now = new Date()): Promise<SigningKey | null> {
  return db.signingKey.findFirst({
    where: { ...clusterSigningKeysOf(orgId), activateAt: { lte: now } },
    orderBy: [{ activateAt: 'desc' }, { createdAt: 'desc' }],
  });
}

export type NewSigningKey = Prisma.SigningKeyUncheckedCreateInput;

/**
 * A new key pair, its private half sealed under the master key, ready to insert. Generated before
 * any transaction: an RSA key takes tens of milliseconds (seconds on a loaded machine), too long to
 * hold a pooled connection or the embedded store's only one.
 */
export async function newSigningKey(masterKey: Buffer, orgId: string, alg: ClusterKeyAlgorithm, activateAt: Date): Promise<NewSigningKey> {
  const kid = randomBytes(12).toString('base64url');
  // RS256 at 2048 bits is what Pulsar's AuthenticationProviderToken expects by default.
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  const privateJwk = await exportJWK(privateKey);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    kid,
    purpose: CLUSTER_KEY_PURPOSE,
    orgId,
    alg,
    activateAt,
    publicJwk,
    privateKeyEncrypted: seal(masterKey, JSON.stringify(privateJwk), sealingContext(orgId, kid)),
  };
}

/** SPKI PEM of a stored public JWK: what Pulsar's tokenPublicKey reads. */
export function publicKeyPem(key: SigningKey): string {
  return createPublicKey({ key: key.publicJwk as JWK as import('node:crypto').JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

/**
 * Private keys (decrypted once per process) for signing, and public keys by kid for verification.
 * Both are immutable per kid, so nothing here needs invalidating except after a store reset.
 */
export class ClusterSigningKeys {
  readonly #private = new Map<string, Promise<Key>>();
  readonly #public = new Map<string, Promise<PublicSigningKey | null>>();
  readonly #unknown = new LRUCache<string, true>({ max: 10_000, ttl: UNKNOWN_KID_TTL_MS });

  constructor(
    private readonly db: Db,
    private readonly masterKey: Buffer,
  ) {}

  privateKey(row: SigningKey): Promise<Key> {
    let key = this.#private.get(row.kid);
    if (!key) {
      key = (async () => {
        let jwk: JWK;
        try {
          jwk = JSON.parse(open(this.masterKey, row.privateKeyEncrypted, sealingContext(row.orgId ?? '', row.kid)).toString('utf8')) as JWK;
        } catch (error) {
          throw new Error(`signing key ${row.kid} cannot be decrypted with LATCHKEY_MASTER_KEY; the master key differs from the one it was sealed with`, {
            cause: error,
          });
        }
        return importJWK(jwk, row.alg);
      })();
      key.catch(() => this.#private.delete(row.kid));
      this.#private.set(row.kid, key);
    }
    return key;
  }

  /**
   * The public key of a kid, or null when it is not one of ours. A well-formed kid that is not
   * ours is remembered as unknown for UNKNOWN_KID_TTL_MS only, so that a stream of tokens with a
   * made-up kid costs one row read per interval rather than one each. Kids are 12 random bytes and
   * a token names its kid only after the key was committed, so the only kid ever remembered as
   * unknown is one nobody could have been issued a token for yet.
   */
  publicKey(kid: string): Promise<PublicSigningKey | null> {
    if (!KID_RE.test(kid) || this.#unknown.has(kid)) return Promise.resolve(null);
    let key = this.#public.get(kid);
    if (!key) {
      key = this.db.signingKey.findFirst({ where: { kid, purpose: CLUSTER_KEY_PURPOSE } }).then(async (row) => {
        if (!row?.orgId || !(CLUSTER_KEY_ALGORITHMS as readonly string[]).includes(row.alg)) return null;
        return { orgId: row.orgId, alg: row.alg as ClusterKeyAlgorithm, key: await importJWK(row.publicJwk as JWK, row.alg) };
      });
      void key.then(
        (found) => {
          if (found) return;
          this.#public.delete(kid);
          this.#unknown.set(kid, true);
        },
        () => this.#public.delete(kid),
      );
      this.#public.set(kid, key);
    }
    return key;
  }

  /** After an organization is deleted (or notifications were missed): its keys must not verify. */
  clear(): void {
    this.#private.clear();
    this.#public.clear();
    this.#unknown.clear();
  }
}
