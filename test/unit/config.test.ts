import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config.js';

const masterKey = randomBytes(32).toString('base64');

/** The ConfigError message for an environment that must be refused. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return error.message;
  }
  assert.fail(`${JSON.stringify(env)} was accepted`);
}

describe('configuration', () => {
  test('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.LATCHKEY_DATA_DIR, './data');
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.LATCHKEY_TRUST_PROXY, false);
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.LATCHKEY_MASTER_KEY, undefined);
    assert.equal(config.LATCHKEY_ROOT_TOKEN, undefined);
    assert.equal(config.LATCHKEY_ARGON2_MEMORY_KIB, 8192);
    assert.equal(config.LATCHKEY_KEY_QUOTA_CLOUD, 10);
    assert.equal(config.LATCHKEY_KEY_QUOTA_OTHER, 100);
    assert.equal(config.LATCHKEY_RECENT_USE_HOURS, 24);
  });

  test('the result is frozen', () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { PORT: number }).PORT = 1;
    }, TypeError);
  });

  test('numbers are parsed, and empty strings count as unset', () => {
    assert.equal(loadConfig({ PORT: '9090' }).PORT, 9090);
    assert.equal(loadConfig({ PORT: '' }).PORT, 8080);
    assert.equal(loadConfig({ LATCHKEY_HASH_QUEUE: '0' }).LATCHKEY_HASH_QUEUE, 0);
  });

  test('LATCHKEY_TRUST_PROXY: false, true (exactly one hop), a hop count, or proxy addresses and CIDRs', () => {
    const trust = (value: string) => loadConfig({ LATCHKEY_TRUST_PROXY: value }).LATCHKEY_TRUST_PROXY;
    assert.equal(trust('false'), false);
    assert.equal(trust('0'), false);
    assert.equal(trust('true'), 1, 'true is one proxy hop, never "trust every X-Forwarded-For entry"');
    assert.equal(trust('1'), 1);
    assert.equal(trust('3'), 3);
    assert.deepEqual(trust('10.0.0.1, 10.1.0.0/16,::1,fd00::/8'), ['10.0.0.1', '10.1.0.0/16', '::1', 'fd00::/8']);
    for (const bad of ['yes', '10.0.0.300', '10.0.0.0/33', 'fd00::/129', '10.0.0.1,,10.0.0.2', 'loopback', '-1', '101']) {
      assert.match(refusal({ LATCHKEY_TRUST_PROXY: bad }), /LATCHKEY_TRUST_PROXY/, bad);
    }
  });

  test('variables it does not know are ignored', () => {
    assert.doesNotThrow(() => loadConfig({ PATH: '/usr/bin', HOME: '/root', LATCHKEY_UNKNOWN: 'x' }));
  });

  const refusals: { name: string; env: Record<string, string>; variable: string }[] = [
    { name: 'a port that is not a number', env: { PORT: 'abc' }, variable: 'PORT' },
    { name: 'a port out of range', env: { PORT: '70000' }, variable: 'PORT' },
    { name: 'a fractional number', env: { LATCHKEY_HASH_CONCURRENCY: '1.5' }, variable: 'LATCHKEY_HASH_CONCURRENCY' },
    { name: 'an argon2 time cost of 0', env: { LATCHKEY_ARGON2_TIME_COST: '0' }, variable: 'LATCHKEY_ARGON2_TIME_COST' },
    { name: 'an unknown log level', env: { LOG_LEVEL: 'verbose' }, variable: 'LOG_LEVEL' },
    { name: 'a database URL that is not Postgres', env: { DATABASE_URL: 'mysql://db/latchkey', LATCHKEY_MASTER_KEY: masterKey }, variable: 'DATABASE_URL' },
    { name: 'DATABASE_URL without a master key', env: { DATABASE_URL: 'postgresql://db/latchkey' }, variable: 'LATCHKEY_MASTER_KEY' },
    { name: 'a master key that is not base64', env: { LATCHKEY_MASTER_KEY: 'not base64 at all!' }, variable: 'LATCHKEY_MASTER_KEY' },
    { name: 'a master key of 16 bytes', env: { LATCHKEY_MASTER_KEY: randomBytes(16).toString('base64') }, variable: 'LATCHKEY_MASTER_KEY' },
    { name: 'a root token shorter than 32 characters', env: { LATCHKEY_ROOT_TOKEN: 'short' }, variable: 'LATCHKEY_ROOT_TOKEN' },
  ];
  for (const { name, env, variable } of refusals) {
    test(`refuses ${name}, naming ${variable}`, () => {
      assert.match(refusal(env), new RegExp(`\\b${variable}\\b`));
    });
  }

  test('several bad variables are all named, still on one line', () => {
    const message = refusal({ PORT: 'abc', LOG_LEVEL: 'loud', LATCHKEY_ROOT_TOKEN: 'short' });
    for (const variable of ['PORT', 'LOG_LEVEL', 'LATCHKEY_ROOT_TOKEN']) assert.match(message, new RegExp(`\\b${variable}\\b`));
  });

  test('Postgres with a master key is accepted; the key is decoded to 32 bytes', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/latchkey', LATCHKEY_MASTER_KEY: masterKey });
    assert.equal(config.DATABASE_URL, 'postgres://u@db:5432/latchkey');
    assert.ok(Buffer.isBuffer(config.LATCHKEY_MASTER_KEY));
    assert.equal(config.LATCHKEY_MASTER_KEY.length, 32);
    assert.deepEqual(config.LATCHKEY_MASTER_KEY, Buffer.from(masterKey, 'base64'));
  });

  test('config.ts is the only module that reads process.env', async () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const readers: string[] = [];
    for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (!entry.isFile() || !entry.name.endsWith('.ts') || path.includes(`${src}generated`)) continue;
      if ((await readFile(path, 'utf8')).includes('process.env')) readers.push(path.slice(src.length));
    }
    assert.deepEqual(readers, ['config.ts']);
  });
});
