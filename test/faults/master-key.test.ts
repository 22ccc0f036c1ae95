import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { checkMasterKey, MasterKeyMismatchError } from '../../src/crypto/master-key-check.js';
import { openStore } from '../../src/store/index.js';
import { kill9, type ServerProcess, spawnServer, startServer } from '../helpers/server-process.js';

// A wrong LATCHKEY_MASTER_KEY used to start and then answer 500 on /oauth2/token and signing.
// The database keeps a key check value (an HMAC of a constant under the key) from the first start.

describe('master key check', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const server of servers) await kill9(server);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('a process with another master key than the first start refuses to start, naming LATCHKEY_MASTER_KEY in one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-mk-'));
    dirs.push(dir);
    const right = randomBytes(32).toString('base64');
    const first = await startServer({ LATCHKEY_DATA_DIR: dir, LATCHKEY_MASTER_KEY: right });
    servers.push(first);
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0);

    const wrong = await spawnServer({ LATCHKEY_DATA_DIR: dir, LATCHKEY_MASTER_KEY: randomBytes(32).toString('base64') });
    servers.push(wrong);
    const exit = await wrong.exited;
    assert.notEqual(exit.code, 0);
    const lines = wrong.stderr().trim().split('\n');
    assert.equal(lines.length, 1, wrong.stderr());
    assert.match(lines[0]!, /LATCHKEY_MASTER_KEY/);
    assert.ok(!lines[0]!.includes(right), 'the key itself is never printed');

    const again = await startServer({ LATCHKEY_DATA_DIR: dir, LATCHKEY_MASTER_KEY: right });
    servers.push(again);
    assert.equal((await again.request('GET', '/readyz')).status, 200, 'the right key still starts');
  });

  test('checkMasterKey stores the value once and rejects any other key (in-memory embedded store)', async () => {
    const store = await openStore({ logger: pino({ level: 'silent' }) });
    try {
      const key = randomBytes(32);
      await checkMasterKey(store.prisma, key);
      await checkMasterKey(store.prisma, key);
      await assert.rejects(checkMasterKey(store.prisma, randomBytes(32)), MasterKeyMismatchError);
      const stored = await store.prisma.systemSetting.findUnique({ where: { key: 'master_key_check' } });
      assert.ok(stored && !stored.value.includes(key.toString('base64')) && !stored.value.includes(key.toString('hex')));
    } finally {
      await store.close();
    }
  });
});
