import type { Config } from './config.js';
import type { SecretHasher } from './crypto/hashing.js';
import type { SigningKeys } from './crypto/jwt.js';
import type { FailureLimiter, Tarpit } from './lib/rate-limit.js';
import type { UsageRecorder } from './modules/api-keys/usage.js';
import type { ClientDetailsCache } from './modules/clients/details-cache.js';
import type { ActorCache } from './modules/oauth/actor-cache.js';
import type { ApiKeyVerifier } from './modules/verify/verifier.js';
import type { Db, Store } from './store/index.js';

/** What services need from the process. Built once in app.ts; services take it as an argument. */
export interface Deps {
  config: Config;
  store: Store;
  db: Db;
  hasher: SecretHasher;
  /** Encrypts keys the service itself must use (signing keys, CA keys). */
  masterKey: Buffer;
  verifier: ApiKeyVerifier;
  actors: ActorCache;
  usage: UsageRecorder;
  accessTokenKeys: SigningKeys;
  verifyFailures: { byKey: FailureLimiter; byAddress: FailureLimiter };
  /** Failed management authentications per client address. */
  authFailures: FailureLimiter;
  /** Holds 429 answers back before they are sent. */
  tarpit: Tarpit;
  /** Verified kdb Insights client details by lookup id. */
  clientDetails: ClientDetailsCache;
  /** Unknown client ids presented to the details route, per client address. */
  clientFailures: FailureLimiter;
}
