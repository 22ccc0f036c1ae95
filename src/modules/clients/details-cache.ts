import { VerifyCache } from '../../lib/verify-cache.js';
import type { KdbSettings } from '../resources/schemas.js';

const TTL_MS = 60_000;

/** What the details answer needs, for a client id that was verified against its argon2id hash. */
export interface CachedClient {
  lookupId: string;
  name: string;
  insertTopic: string;
  queryTopic: string;
  caCertificate: string;
  certificate: string;
  /** Still sealed under the key derived from the client id: the cache holds no usable private key. */
  privateKeyEncrypted: string | null;
  endpoints: KdbSettings['endpoints'];
}

/**
 * Verified client details by lookup id, so that a client re-reading its details (the KX SDKs do)
 * costs no argon2 run and no database round trip. The lookup id is an HMAC of the whole client id,
 * so a hit means the same client id was verified before. Dropped on leave, force re-enrolment,
 * settings changes and deployment deletion (the invalidation bus carries lookup ids as `client`).
 * While the invalidation channel is unhealthy (`usable` false) nothing is served or stored.
 */
export type ClientDetailsCache = VerifyCache<CachedClient>;

export function clientDetailsCache(maxEntries = 50_000, usable: () => boolean = () => true): ClientDetailsCache {
  return new VerifyCache<CachedClient>({ max: maxEntries, ttlMs: TTL_MS, usable });
}
