import { randomBytes, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const CHECKSUM_LENGTH = 6;
// 62^43 > 2^256: a random body of 43 base62 characters carries at least 256 bits.
const SECRET_BODY_LENGTH = 43;

/** Type prefixes of every secret Latchkey issues; scanners can match `lk[a-z]_[0-9A-Za-z]{49}`. */
export const SecretPrefix = {
  root: 'lkr_',
  apiKey: 'lks_',
} as const;
export type SecretPrefix = (typeof SecretPrefix)[keyof typeof SecretPrefix];

function randomString(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function checksum(text: string): string {
  return base62(crc32(text), CHECKSUM_LENGTH);
}

/** A new secret: prefix, 256 random bits in base62, CRC32 of everything before it in base62. */
export function generateSecret(prefix: SecretPrefix): string {
  // randomBytes-driven rejection sampling keeps the characters uniform.
  const bytes = randomBytes(SECRET_BODY_LENGTH * 2);
  let body = '';
  for (let i = 0; body.length < SECRET_BODY_LENGTH; i++) {
    if (i >= bytes.length) return generateSecret(prefix);
    const byte = bytes[i]!;
    if (byte < 248) body += BASE62[byte % 62];
  }
  const unchecked = prefix + body;
  return unchecked + checksum(unchecked);
}

const SECRET_LENGTH = SECRET_BODY_LENGTH + CHECKSUM_LENGTH;
const BASE62_RE = /^[0-9A-Za-z]+$/;

/** True when the text has the prefix, the length, the alphabet and a matching checksum. No I/O. */
export function isWellFormedSecret(prefix: SecretPrefix, text: string): boolean {
  if (text.length !== prefix.length + SECRET_LENGTH || !text.startsWith(prefix)) return false;
  const rest = text.slice(prefix.length);
  if (!BASE62_RE.test(rest)) return false;
  const cut = text.length - CHECKSUM_LENGTH;
  return checksum(text.slice(0, cut)) === text.slice(cut);
}

/** Last four characters: enough to tell secrets apart in a list, useless to an attacker. */
export function secretHint(secret: string): string {
  return secret.slice(-4);
}

/** Public ids such as `org-3k9x2m7q1p`. */
export function newId(prefix: string): string {
  return `${prefix}-${randomString(ID_ALPHABET, 10)}`;
}

/** API key ids: 16 characters of [A-Z0-9], as Confluent's. */
export function newApiKeyId(): string {
  return randomString(KEY_ID_ALPHABET, 16);
}

export const API_KEY_ID_RE = /^[A-Z0-9]{16}$/;

/**
 * Access keys (Fluvio-style) travel as `?access_key=` in WebSocket URLs, so they use [A-Za-z0-9]
 * only: `lka`, a 16-character public lookup id (finds the row by index), 43 random base62
 * characters (≥ 256 bits; only their argon2id hash is stored), and a CRC32 checksum of all of it.
 */
const ACCESS_KEY_PREFIX = 'lka';
const ACCESS_KEY_LOOKUP_LENGTH = 16;
const ACCESS_KEY_LENGTH = ACCESS_KEY_PREFIX.length + ACCESS_KEY_LOOKUP_LENGTH + SECRET_BODY_LENGTH + CHECKSUM_LENGTH;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: rejecting larger bytes keeps the characters uniform.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function newAccessKeyLookupId(): string {
  return randomBase62(ACCESS_KEY_LOOKUP_LENGTH);
}

/** A new access key for the row with this lookup id. */
export function generateAccessKey(lookupId: string): string {
  const unchecked = ACCESS_KEY_PREFIX + lookupId + randomBase62(SECRET_BODY_LENGTH);
  return unchecked + checksum(unchecked);
}

/** The lookup id of a well-formed access key (prefix, length, alphabet, checksum), or null. No I/O. */
export function accessKeyLookupId(key: string): string | null {
  if (key.length !== ACCESS_KEY_LENGTH || !key.startsWith(ACCESS_KEY_PREFIX) || !BASE62_RE.test(key)) return null;
  const cut = key.length - CHECKSUM_LENGTH;
  if (checksum(key.slice(0, cut)) !== key.slice(cut)) return null;
  return key.slice(ACCESS_KEY_PREFIX.length, ACCESS_KEY_PREFIX.length + ACCESS_KEY_LOOKUP_LENGTH);
}
