import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { Db } from '../store/index.js';
import { open, seal } from './envelope.js';

const ALG = 'ES256';
type Key = Awaited<ReturnType<typeof importJWK>>;

/**
 * Signing keys for one purpose. The private key is stored sealed under the master key, with the
 * kid bound as associated data; public keys are cached by kid for verification.
 */
export class SigningKeys {
  #active: Promise<{ kid: string; key: Key }> | undefined;
  readonly #public = new Map<string, Promise<Key | null>>();

  constructor(
    private readonly db: Db,
    private readonly masterKey: Buffer,
    private readonly purpose: string,
    private readonly issuer: string,
  ) {}

  async sign(claims: JWTPayload, audience: string, ttlSeconds: number): Promise<string> {
    const { kid, key } = await this.#activeKey();
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setJti(randomBytes(16).toString('base64url'))
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(key);
  }

  /** The verified claims, or null for any token that is not ours, not intact or not current. */
  async verify(token: string, audience: string): Promise<JWTPayload | null> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = header.kid ? await this.#publicKey(header.kid) : null;
          if (!key) throw new Error('unknown kid');
          return key;
        },
        { issuer: this.issuer, audience, algorithms: [ALG], typ: 'at+jwt' },
      );
      return payload;
    } catch {
      return null;
    }
  }

  #activeKey(): Promise<{ kid: string; key: Key }> {
    this.#active ??= this.#loadOrCreate().catch((error: unknown) => {
      this.#active = undefined;
      throw error;
    });
    return this.#active;
  }

  async #loadOrCreate(): Promise<{ kid: string; key: Key }> {
    const existing = await this.db.signingKey.findFirst({
      where: { purpose: this.purpose },
      orderBy: { createdAt: 'desc' },
    });
    if (existing) {
      let sealed: Buffer;
      try {
        sealed = open(this.masterKey, existing.privateKeyEncrypted, this.#context(existing.kid));
      } catch (error) {
        throw new Error(`signing key ${existing.kid} cannot be decrypted with LATCHKEY_MASTER_KEY; the master key differs from the one it was sealed with`, {
          cause: error,
        });
      }
      const jwk = JSON.parse(sealed.toString('utf8')) as JWK;
      return { kid: existing.kid, key: await importJWK(jwk, ALG) };
    }
    const kid = randomBytes(12).toString('base64url');
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    await this.db.signingKey.create({
      data: {
        kid,
        purpose: this.purpose,
        alg: ALG,
        publicJwk,
        privateKeyEncrypted: seal(this.masterKey, JSON.stringify(privateJwk), this.#context(kid)),
      },
    });
    return { kid, key: privateKey };
  }

  #publicKey(kid: string): Promise<Key | null> {
    let key = this.#public.get(kid);
    if (!key) {
      key = this.db.signingKey.findFirst({ where: { kid, purpose: this.purpose } }).then((row) => (row ? importJWK(row.publicJwk as JWK, ALG) : null));
      // Unknown kids are not remembered: a key created by another replica a moment ago must be found.
      void key.then(
        (found) => found ?? this.#public.delete(kid),
        () => this.#public.delete(kid),
      );
      this.#public.set(kid, key);
    }
    return key;
  }

  #context(kid: string): string {
    return `signing_key:${this.purpose}:${kid}`;
  }
}
