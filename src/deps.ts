import type { ActorCache } from './auth/actor-cache.js';
import type { Config } from './config.js';
import type { SecretHasher } from './crypto/hashing.js';
import type { SigningKeys } from './crypto/jwt.js';
import type { CredentialFailureLimits, FailureLimiter, Tarpit } from './lib/rate-limit.js';
import type { KeyFilterFetcher } from './modules/access-keys/key-filter.js';
import type { AccessKeyVerifier } from './modules/access-keys/verifier.js';
import type { UsageRecorder } from './modules/api-keys/usage.js';
import type { ApiKeyVerifier } from './modules/api-keys/verifier.js';
import type { ClientDetailsCache } from './modules/clients/details-cache.js';
import type { ClusterSigningKeys } from './modules/cluster-keys/signing-keys.js';
import type { ClusterKeyVerifier } from './modules/cluster-keys/verifier.js';
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
  /** Failed verifications per (credential, caller, address) and per address; one for every credential family. */
  verifyFailures: CredentialFailureLimits;
  /** Failed management authentications per client address. */
  authFailures: FailureLimiter;
  /** Holds 429 answers back before they are sent. */
  tarpit: Tarpit;
  accessKeys: AccessKeyVerifier;
  /** last_used_at of access keys, batched like API keys'. */
  accessKeyUsage: UsageRecorder;
  /** Fetches remote key filters of access keys, refusing private addresses. */
  keyFilter: KeyFilterFetcher;
  /** Per-organization keys that sign cluster keys. */
  clusterSigningKeys: ClusterSigningKeys;
  clusterKeyVerifier: ClusterKeyVerifier;
  /** last_used_at of cluster keys, batched like API keys'. */
  clusterKeyUsage: UsageRecorder;
  /** Verified kdb Insights client details by lookup id. */
  clientDetails: ClientDetailsCache;
  /** Unknown client ids presented to the details route, per client address. */
  clientFailures: FailureLimiter;
}
