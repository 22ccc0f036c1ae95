import type { Config } from './config.js';
import type { SecretHasher } from './crypto/hashing.js';
import type { Db, Store } from './store/index.js';

/** What services need from the process. Built once in app.ts; services take it as an argument. */
export interface Deps {
  config: Config;
  store: Store;
  db: Db;
  hasher: SecretHasher;
  /** Encrypts keys the service itself must use (signing keys, CA keys). */
  masterKey: Buffer;
}
