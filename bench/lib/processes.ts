import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 12_000;
const RSS_POLL_MS = 100;
/** USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux architecture we run on (`getconf CLK_TCK`). */
const CLOCK_TICKS_PER_SECOND = 100;

/** Every child this run started; killed on exit, error and Ctrl-C. */
const running = new Set<ServerProcess>();

/** A port the kernel just handed out on 127.0.0.1 (free unless something grabs it in between). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** CPU time (user + system) a process has used, in seconds, from /proc; undefined once it is gone. */
function readCpuSeconds(pid: number): number | undefined {
  try {
    // The fields after the command name (which may hold spaces), from field 3: utime is 14, stime 15, in clock ticks.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM (peak) of a process in MiB, from /proc; undefined once it is gone. */
function readMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

export interface ServerSpec {
  name: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  logDir: string;
  /** The command line before `args`, node included (valgrind, node and its flags, for --callgrind); absent: node itself. */
  launcher?: readonly string[];
  /** How long the process may take to answer its ready path (default 90 s). */
  readyTimeoutMs?: number;
}

/**
 * A server child process: started with its output in a log file, polled for memory while it
 * lives, stopped with SIGTERM (SIGKILL after a grace period).
 */
export class ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly logFile: string;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  #exitCode: number | null | undefined;
  #poller: NodeJS.Timeout | undefined;
  #windowPeak = 0;
  #lastHwm = 0;

  constructor(
    private readonly spec: ServerSpec,
    port: number,
  ) {
    this.name = spec.name;
    this.port = port;
    this.logFile = join(spec.logDir, `${spec.name}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  static async start(spec: ServerSpec, readyPath: string): Promise<ServerProcess> {
    const server = new ServerProcess(spec, Number(spec.env.PORT ?? (await freePort())));
    server.#spawn();
    await server.#waitReady(readyPath);
    return server;
  }

  #spawn(): void {
    const log = openSync(this.logFile, 'a');
    const [command, ...launcherArgs] = this.spec.launcher ?? [process.execPath];
    const child = spawn(command!, [...launcherArgs, ...this.spec.args], {
      cwd: this.spec.cwd,
      env: { ...this.spec.env, PORT: String(this.port) },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.#child = child;
    running.add(this);
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? -1 : null);
        running.delete(this);
        if (this.#poller) clearInterval(this.#poller);
        resolve(code);
      });
    });
    this.#poller = setInterval(() => this.#sample(), RSS_POLL_MS);
    this.#poller.unref();
  }

  #sample(): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    const memory = readMemory(pid);
    if (!memory) return;
    this.#windowPeak = Math.max(this.#windowPeak, memory.rss);
    this.#lastHwm = Math.max(this.#lastHwm, memory.hwm);
  }

  async #waitReady(path: string): Promise<void> {
    const deadline = Date.now() + (this.spec.readyTimeoutMs ?? READY_TIMEOUT_MS);
    while (Date.now() < deadline) {
      if (this.#exitCode !== undefined) {
        throw new Error(`${this.name} exited with ${this.#exitCode} before it was ready; last log lines:\n${this.tail()}`);
      }
      try {
        const response = await fetch(this.url + path, { signal: AbortSignal.timeout(2000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    throw new Error(`${this.name} was not ready within ${(this.spec.readyTimeoutMs ?? READY_TIMEOUT_MS) / 1000}s; last log lines:\n${this.tail()}`);
  }

  /** The last lines of the process's log, for error messages. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** CPU seconds (user + system) used so far; undefined once the process is gone. */
  cpuSeconds(): number | undefined {
    return readCpuSeconds(this.#child?.pid ?? -1);
  }

  /** Starts a new peak-RSS window (per scenario). */
  resetWindow(): void {
    this.#sample();
    this.#windowPeak = readMemory(this.#child?.pid ?? -1)?.rss ?? 0;
  }

  /** Peak RSS in MiB since resetWindow(). */
  windowPeakMb(): number {
    this.#sample();
    return this.#windowPeak;
  }

  /** The kernel's peak RSS (VmHWM) for the whole life of the process, in MiB. */
  lifetimePeakMb(): number {
    this.#sample();
    return this.#lastHwm;
  }

  get alive(): boolean {
    return this.#child !== undefined && this.#exitCode === undefined;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || this.#exitCode !== undefined) return;
    this.#sample();
    child.kill('SIGTERM');
    const timer = sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const);
    if ((await Promise.race([this.#exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await this.#exited;
    }
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    if (this.#child && this.#exitCode === undefined) this.#child.kill('SIGKILL');
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop()));
}

export function killAllNow(): void {
  for (const server of running) server.killNow();
}
