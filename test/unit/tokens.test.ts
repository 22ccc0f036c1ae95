import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSecret, isWellFormedSecret, newApiKeyId, newId, SecretPrefix, secretHint } from '../../src/crypto/tokens.js';

describe('secret formats', () => {
  test('secrets carry their prefix, 43 base62 characters of randomness and a 6-character checksum', () => {
    const secret = generateSecret(SecretPrefix.apiKey);
    assert.match(secret, /^lks_[0-9A-Za-z]{49}$/);
    assert.ok(isWellFormedSecret(SecretPrefix.apiKey, secret));
    assert.equal(secretHint(secret), secret.slice(-4));
  });

  test('every single-character typo is caught by the checksum', () => {
    const secret = generateSecret(SecretPrefix.apiKey);
    for (let i = 4; i < secret.length; i++) {
      const replacement = secret[i] === 'A' ? 'B' : 'A';
      const typo = secret.slice(0, i) + replacement + secret.slice(i + 1);
      assert.equal(isWellFormedSecret(SecretPrefix.apiKey, typo), false, `typo at ${i}`);
    }
  });

  test('wrong prefix, length or alphabet is rejected', () => {
    const secret = generateSecret(SecretPrefix.apiKey);
    assert.equal(isWellFormedSecret(SecretPrefix.root, secret), false);
    assert.equal(isWellFormedSecret(SecretPrefix.apiKey, secret.slice(0, -1)), false);
    assert.equal(isWellFormedSecret(SecretPrefix.apiKey, `${secret.slice(0, 10)}-${secret.slice(11)}`), false);
  });

  test('secrets do not repeat and use the whole alphabet', () => {
    const seen = new Set<string>();
    const characters = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const secret = generateSecret(SecretPrefix.apiKey);
      seen.add(secret);
      for (const c of secret.slice(4, 47)) characters.add(c);
    }
    assert.equal(seen.size, 2000);
    assert.equal(characters.size, 62);
  });

  test('ids have their documented shapes', () => {
    assert.match(newApiKeyId(), /^[A-Z0-9]{16}$/);
    assert.match(newId('lkc'), /^lkc-[a-z0-9]{10}$/);
  });
});
