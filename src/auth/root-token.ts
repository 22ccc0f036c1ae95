import { randomBytes } from 'node:crypto';
import type { SecretHasher } from '../crypto/hashing.js';
import { generateSecret, isWellFormedSecret, SecretPrefix } from '../crypto/tokens.js';
import { andThen, type Eventually } from '../lib/eventually.js';
import { pepperedDigest } from '../lib/verify-cache.js';
import type { Db } from '../store/index.js';
import { isJwt } from './access-token.js';
import type { Authenticator } from './authenticator.js';

const SETTING = 'root_token_hash';
const CACHE_MS = 60_000;

/**
 * Makes sure a root token hash is stored. Returns the token when this call generated it, so the
 * process can print it once; a configured LATCHKEY_ROOT_TOKEN replaces whatever hash was stored.
 */
export async function ensureRootToken(db: Db, hasher: SecretHasher, configured: string | undefined): Promise<string | undefined> {
  const stored = await db.systemSetting.findUnique({ where: { key: SETTING } });
  if (configured !== undefined) {
    if (stored && (await hasher.verify(stored.value, configured)).ok) return undefined;
    const value = await hasher.hash(configured);
    await db.systemSetting.upsert({ where: { key: SETTING }, create: { key: SETTING, value }, update: { value } });
    return undefined;
  }
  if (stored) return undefined;
  const token = generateSecret(SecretPrefix.root);
  // createMany with skipDuplicates: two replicas starting together keep the first token only.
  const { count } = await db.systemSetting.createMany({
    data: [{ key: SETTING, value: await hasher.hash(token) }],
    skipDuplicates: true,
  });
  return count === 1 ? token : undefined;
}

/**
 * Checks presented root tokens; a verified token is remembered briefly so argon2 runs once a minute.
 * The last token that matched (or the configured one) stays known after that, so that a client
 * address over its failure limit can still use it: only unknown tokens are refused unchecked.
 */
export class RootTokenVerifier {
  readonly #pepper = randomBytes(32).toString('base64');
  #verified: { digest: string; until: number } | undefined;
  #knownGood: string | undefined;

  constructor(
    private readonly db: Db,
    private readonly hasher: SecretHasher,
    configured?: string,
  ) {
    if (configured !== undefined) this.#knownGood = this.#digest(configured);
  }

  /** `throttled`: answer only a token known to be good; spend no argon2 work on others. At once unless argon2 must run. */
  verify(token: string, throttled = false): Eventually<boolean> {
    // A configured root token need not carry our prefix and checksum; generated ones always do.
    if (token.startsWith(SecretPrefix.root) && token.length < 200 && !isWellFormedSecret(SecretPrefix.root, token)) {
      return false;
    }
    const digest = this.#digest(token);
    if (this.#verified && this.#verified.digest === digest && this.#verified.until > Date.now()) return true;
    if (throttled && digest !== this.#knownGood) return false;
    return this.#check(token, digest);
  }

  async #check(token: string, digest: string): Promise<boolean> {
    const stored = await this.db.systemSetting.findUnique({ where: { key: SETTING } });
    if (!stored) return false;
    const { ok } = await this.hasher.verify(stored.value, token);
    if (ok) {
      this.#verified = { digest, until: Date.now() + CACHE_MS };
      this.#knownGood = digest;
    }
    return ok;
  }

  #digest(token: string): string {
    return pepperedDigest(this.#pepper, [token]);
  }
}

/** The root token as `Authorization: Bearer <token>`: any bearer that is not a JWT (access-token.ts). */
export const rootTokenAuthenticator = (rootTokens: RootTokenVerifier): Authenticator => ({
  scheme: 'bearer',
  accepts: (credential) => !isJwt(credential),
  authenticate: (credential, _request, throttled) => andThen(rootTokens.verify(credential, throttled), (ok) => (ok ? { kind: 'root' } : null)),
});
