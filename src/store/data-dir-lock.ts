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

/** Directories this process holds: a lock file naming our own pid is ours only if listed here. */
const heldHere = new Set<string>();

/**
 * When the process started (Linux: clock ticks since boot, /proc/<pid>/stat field 22); undefined
 * elsewhere. Tells a live holder from a new process that was given the dead holder's pid, which is
 * the rule rather than the exception in containers (the server is pid 1 after every restart).
 */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
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

interface Holder {
  pid: number;
  startTime: string | undefined;
}

function readHolder(file: string): Holder | undefined {
  try {
    const [pidText, startTime] = readFileSync(file, 'utf8').trim().split(/\s+/);
    const pid = Number.parseInt(pidText ?? '', 10);
    return Number.isSafeInteger(pid) && pid > 0 ? { pid, startTime: startTime || undefined } : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether the process that wrote the lock still runs (and is not a newcomer with its pid). */
function holds(holder: Holder, dir: string): boolean {
  if (holder.pid === process.pid) return heldHere.has(dir);
  if (!isAlive(holder.pid)) return false;
  const now = startTimeOf(holder.pid);
  return holder.startTime === undefined || now === undefined || now === holder.startTime;
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
      let holder = readHolder(file);
      if (holder === undefined) {
        // Being written right now by a process that just created it, or left empty by a crash
        // between create and write: give a live writer a moment before treating it as stale.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
        holder = readHolder(file);
      }
      if (holder !== undefined && holds(holder, dir)) throw new DataDirLockedError(dir, holder.pid);
      try {
        unlinkSync(file);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
      continue;
    }
    writeSync(fd, `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
    closeSync(fd);
    heldHere.add(dir);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        heldHere.delete(dir);
        // Only our own lock: never remove one another process took over.
        if (readHolder(file)?.pid === process.pid) unlinkSync(file);
      },
    };
  }
  throw new Error(`could not take the lock ${file} on the data directory ${dir}`);
}
