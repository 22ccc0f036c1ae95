import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/index.js';
import { open } from './envelope.js';

const SETTING = 'master_key_check';
const CONSTANT = 'latchkey master key check v1';

/** The process was started with a master key other than the one the database's keys are sealed with. */
export class MasterKeyMismatchError extends Error {
  constructor() {
    super('LATCHKEY_MASTER_KEY does not match the master key this database was created with (its key check value differs); start with the original key');
    this.name = 'MasterKeyMismatchError';
  }
}

/** HMAC-SHA256 of a constant under the master key: proves which key is in use, reveals nothing of it. */
function masterKeyCheckValue(masterKey: Buffer): string {
  return `v1:${createHmac('sha256', masterKey).update(CONSTANT).digest('base64url')}`;
}

/**
 * Refuses a master key other than the database's. The first start stores the key check value;
 * every later start compares. A database from before the check existed gets its value stored
 * only after a sealed signing key (if any) opens with this key, so a wrong key is never recorded.
 */
export async function checkMasterKey(db: Db, masterKey: Buffer): Promise<void> {
  const expected = masterKeyCheckValue(masterKey);
  const stored = await db.systemSetting.findUnique({ where: { key: SETTING } });
  if (stored) {
    const a = Buffer.from(stored.value);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new MasterKeyMismatchError();
    return;
  }
  const sealed = await db.signingKey.findFirst({ orderBy: { createdAt: 'asc' } });
  if (sealed) {
    try {
      open(masterKey, sealed.privateKeyEncrypted, `signing_key:${sealed.purpose}:${sealed.kid}`);
    } catch {
      throw new MasterKeyMismatchError();
    }
  }
  // Two replicas starting together: the first value wins, and the loser compares against it.
  await db.systemSetting.createMany({ data: [{ key: SETTING, value: expected }], skipDuplicates: true });
  const now = await db.systemSetting.findUnique({ where: { key: SETTING } });
  if (now && now.value !== expected) throw new MasterKeyMismatchError();
}
