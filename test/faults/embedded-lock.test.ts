import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/store/data-dir-lock.js';
import { kill9, type ServerProcess, spawnServer, startServer } from '../helpers/server-process.js';

// Two processes on one embedded data directory corrupt it (lost writes, revoked keys VALID again):
// the second must refuse at once. Runs on both passes: it is about the embedded store only.

const lockPid = async (dir: string) => Number((await readFile(join(dir, LOCK_FILE), 'utf8')).trim().split(/\s+/)[0]);

describe('embedded data directory lock', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const server of servers) await kill9(server);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-lock-'));
    dirs.push(dir);
    return dir;
  };

  test('a second process on the same directory exits non-zero at once with one line naming the directory and the holder', async () => {
    const dir = await tempDir();
    const first = await startServer({ LATCHKEY_DATA_DIR: dir });
    servers.push(first);
    const created = await first.request('POST', '/v1/orgs', { name: 'lock-org' });
    assert.equal(created.status, 201);

    const second = await spawnServer({ LATCHKEY_DATA_DIR: dir });
    servers.push(second);
    const exit = await Promise.race([second.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000))]);
    assert.notEqual(exit, 'hung', 'the second process must not wait');
    assert.notEqual((exit as { code: number | null }).code, 0);
    const lines = second.stderr().trim().split('\n');
    assert.equal(lines.length, 1, second.stderr());
    assert.match(lines[0]!, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(lines[0]!, new RegExp(`pid ${first.pid}\\b`));

    // The first process was not disturbed.
    assert.ok(first.alive());
    const list = await first.request('GET', '/v1/orgs');
    assert.equal(list.status, 200);
    assert.ok(list.json.data.some((org: { name: string }) => org.name === 'lock-org'));
  });

  test('a lock left by a process killed with -9 is taken over, and the data is intact', async () => {
    const dir = await tempDir();
    const first = await startServer({ LATCHKEY_DATA_DIR: dir });
    servers.push(first);
    assert.equal((await first.request('POST', '/v1/orgs', { name: 'survivor-org' })).status, 201);
    await kill9(first);
    assert.equal(await lockPid(dir), first.pid, 'the stale lock is still there');

    const next = await startServer({ LATCHKEY_DATA_DIR: dir });
    servers.push(next);
    assert.equal(await lockPid(dir), next.pid);
    const list = await next.request('GET', '/v1/orgs');
    assert.ok(list.json.data.some((org: { name: string }) => org.name === 'survivor-org'));
  });

  test('in one process: the holder itself is refused a second lock; release frees it; a dead pid is stale', async () => {
    const dir = await tempDir();
    const lock = lockDataDir(dir);
    assert.throws(
      () => lockDataDir(dir),
      (error: unknown) => error instanceof DataDirLockedError && error.pid === process.pid && !error.message.includes('\n'),
    );
    lock.release();
    lockDataDir(dir).release();

    // A pid far above pid_max on Linux (4194304) never runs.
    await writeFile(join(dir, LOCK_FILE), '99999999\n');
    const taken = lockDataDir(dir);
    assert.equal(await lockPid(dir), process.pid);
    taken.release();
  });

  test('a live pid is only a holder if it is the same process: a pid reused after a restart (containers) is stale', async () => {
    const dir = await tempDir();
    const startTime = async (pid: number) => (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ')[19];
    const parent = process.ppid;
    // Our own pid, left by an earlier incarnation (a container restarted with the server as pid 1 again).
    await writeFile(join(dir, LOCK_FILE), `${process.pid} 1\n`);
    lockDataDir(dir).release();
    if ((await startTime(parent)) !== undefined) {
      // A running process whose start time differs from the lock's: it got the dead holder's pid.
      await writeFile(join(dir, LOCK_FILE), `${parent} 1\n`);
      lockDataDir(dir).release();
      // The same running process: a live holder.
      await writeFile(join(dir, LOCK_FILE), `${parent} ${await startTime(parent)}\n`);
      assert.throws(
        () => lockDataDir(dir),
        (error: unknown) => error instanceof DataDirLockedError && error.pid === parent,
      );
    }
  });
});
