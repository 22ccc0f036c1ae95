import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'latchkey.lock';

/** Another live process holds the data directory. The message is one line naming both. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the data directory ${dir} is in use by another Latchkey process (pid ${pid}); stop it or choose another LATCHKEY_DATA_DIR`);
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes the embedded store's data directory for this process: a lock file created with O_EXCL
 * holding our pid. A lock left by a process that no longer runs (kill -9, a crash) is taken over;
 * a live holder (including this process) makes this throw DataDirLockedError. Two processes on one
 * PGlite directory corrupt it, so this must run before the database is opened.
 */
export function lockDataDir(dir: string): DataDirLock {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readPid(file);
      if (holder !== undefined && (holder === process.pid || isAlive(holder))) throw new DataDirLockedError(dir, holder);
      if (holder === undefined) {
        // Being written right now by a process that just created it, or left empty by a crash
        // between create and write: give a live writer a moment before treating it as stale.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
        const again = readPid(file);
        if (again !== undefined && (again === process.pid || isAlive(again))) throw new DataDirLockedError(dir, again);
      }
      try {
        unlinkSync(file);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        // Only our own lock: never remove one another process took over.
        if (readPid(file) === process.pid) unlinkSync(file);
      },
    };
  }
  throw new Error(`could not take the lock ${file} on the data directory ${dir}`);
}
