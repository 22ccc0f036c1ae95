import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/**
 * `--callgrind`: every server runs under valgrind's callgrind with instrumentation off, and a
 * measured load turns it on for its own requests only. What a request costs is then counted in
 * instructions, which do not move with the machine's speed the way CPU time does (bench/README.md,
 * "How to read them"); a warm-up and seeding run uninstrumented, so the JIT has settled first.
 */
export class Callgrind {
  /**
   * callgrind_control reaches a process through FIFOs named after USER and HOST as each side sees
   * them, so the servers and callgrind_control share both (Latchkey's HOST is 127.0.0.1 anyway).
   */
  readonly env = { USER: process.env.USER ?? userInfo().username, HOST: '127.0.0.1' };

  constructor(private readonly dir: string) {
    try {
      execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error('--callgrind needs valgrind (apt-get install valgrind)');
    }
  }

  /**
   * How a server starts: node under valgrind, which must be told to watch for code V8 writes and
   * rewrites at run time. `--predictable` (fixed seeds, no background compilation or GC threads)
   * makes two processes of the same code compile alike: without it the same tree measured 178k and
   * 202k instructions per cached verification in two processes, with it 172.8k and 175.1k.
   */
  get launcher(): string[] {
    return [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${join(this.dir, 'callgrind.%p')}`,
      process.execPath,
      '--predictable',
    ];
  }

  /** Zeroes the counters of a process and turns instrumentation on. */
  start(pid: number): void {
    this.#control('--zero', pid);
    this.#control('--instr=on', pid);
  }

  /** Turns instrumentation off and answers the instructions counted since `start`. */
  stop(pid: number): number {
    this.#control('--instr=off', pid);
    this.#control('--dump', pid);
    // Each dump is a new part, `callgrind.<pid>.<n>`; the newest holds what was counted since `start`.
    const prefix = `callgrind.${pid}.`;
    const parts = readdirSync(this.dir)
      .filter((name) => name.startsWith(prefix))
      .map((name) => Number(name.slice(prefix.length)))
      .filter(Number.isInteger);
    if (parts.length === 0) throw new Error(`callgrind wrote no dump for pid ${pid} in ${this.dir}`);
    const text = readFileSync(join(this.dir, `${prefix}${Math.max(...parts)}`), 'utf8');
    const totals = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
    if (!totals) throw new Error(`no instruction total in callgrind's dump for pid ${pid}`);
    return Number(totals[1]);
  }

  #control(command: string, pid: number): void {
    execFileSync('callgrind_control', [command, String(pid)], { env: { ...process.env, ...this.env }, stdio: 'ignore' });
  }
}
