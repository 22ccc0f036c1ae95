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
  for (let i = 0; i < width; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
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
