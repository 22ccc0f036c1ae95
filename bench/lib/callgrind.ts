import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** One function's own instructions (its callees' not included) per answer of a measured load. */
export interface ProfileEntry {
  function: string;
  instructions_per_response: number;
}

/** One process's dump of a measured load. */
export interface Dump {
  pid: number;
  file: string;
}

/** How many functions a scenario's instruction profile lists. */
const PROFILE_LENGTH = 25;

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

  /** The processes it counted: each wrote a perf map for `dispose` to remove. */
  readonly #pids = new Set<number>();

  constructor(
    private readonly dir: string,
    /** Prefixes cut from code locations in profiles (the run's build, the repository). */
    private readonly roots: readonly string[],
  ) {
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
   * `--perf-basic-prof` writes where V8 put each compiled function (/tmp/perf-<pid>.map), so
   * that the profile can name JIT code, which callgrind sees only as addresses.
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
      '--perf-basic-prof',
    ];
  }

  /** Zeroes the counters of a process and turns instrumentation on. */
  start(pid: number): void {
    this.#pids.add(pid);
    this.#control('--zero', pid);
    this.#control('--instr=on', pid);
  }

  /** Turns instrumentation off and answers the instructions counted since `start`, and the dump holding them. */
  stop(pid: number): { instructions: number; dump: Dump } {
    this.#control('--instr=off', pid);
    this.#control('--dump', pid);
    // Each dump is a new part, `callgrind.<pid>.<n>`; the newest holds what was counted since `start`.
    const prefix = `callgrind.${pid}.`;
    const parts = readdirSync(this.dir)
      .filter((name) => name.startsWith(prefix))
      .map((name) => Number(name.slice(prefix.length)))
      .filter(Number.isInteger);
    if (parts.length === 0) throw new Error(`callgrind wrote no dump for pid ${pid} in ${this.dir}`);
    const file = join(this.dir, `${prefix}${Math.max(...parts)}`);
    const text = readFileSync(file, 'utf8');
    const totals = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
    if (!totals) throw new Error(`no instruction total in callgrind's dump for pid ${pid}`);
    return { instructions: Number(totals[1]), dump: { pid, file } };
  }

  /**
   * The functions that executed the most instructions themselves in these dumps, per answer:
   * callgrind_annotate's self costs, with JIT code named from the process's perf map (code written
   * at an address V8 used before replaces it there, so an address maps to the newest function
   * that covers it).
   */
  profile(dumps: readonly Dump[], answers: number): ProfileEntry[] {
    const byName = new Map<string, number>();
    for (const { pid, file } of dumps) {
      const jit = perfMap(join(tmpdir(), `perf-${pid}.map`));
      const annotated = execFileSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      for (const line of annotated.split('\n')) {
        const match = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)$/.exec(line);
        if (!match || match[2]!.includes('PROGRAM TOTALS')) continue;
        const name = this.#nameOf(match[2]!, jit);
        byName.set(name, (byName.get(name) ?? 0) + Number(match[1]!.replaceAll(',', '')));
      }
    }
    return [...byName]
      .sort((a, b) => b[1] - a[1])
      .slice(0, PROFILE_LENGTH)
      .map(([name, instructions]) => ({ function: name, instructions_per_response: Math.round(instructions / answers) }));
  }

  /** Removes the perf maps of the servers it counted (one started but never counted leaves its map in /tmp). */
  dispose(): void {
    for (const pid of this.#pids) rmSync(join(tmpdir(), `perf-${pid}.map`), { force: true });
  }

  /** `???:0x…` (JIT code) named from the perf map; `file:function [object]` as the function alone. */
  #nameOf(location: string, jit: PerfMap): string {
    const address = /^\?\?\?:0x([0-9a-f]+)/.exec(location);
    let name = address
      ? `JIT ${jit.nameAt(Number.parseInt(address[1]!, 16)) ?? 'code not in the perf map'}`
      : location.replace(/^.*?:(?=[^:])/, '').replace(/ \[[^\]]*\]$/, '');
    for (const root of this.roots) name = name.replaceAll(`file://${root}/`, '').replaceAll(`${root}/`, '');
    return name.length > 140 ? `${name.slice(0, 139)}…` : name;
  }

  #control(command: string, pid: number): void {
    execFileSync('callgrind_control', [command, String(pid)], { env: { ...process.env, ...this.env }, stdio: 'ignore' });
  }
}

interface PerfMap {
  nameAt(address: number): string | undefined;
}

/** `<start> <size> <name>` lines, hexadecimal; later lines win (code recompiled at a reused address). */
function perfMap(path: string): PerfMap {
  let lines: string[];
  try {
    lines = readFileSync(path, 'utf8').split('\n');
  } catch {
    return { nameAt: () => undefined };
  }
  const entries = lines.flatMap((line) => {
    const [startHex, sizeHex, ...name] = line.split(' ');
    if (!startHex || !sizeHex || name.length === 0) return [];
    const start = Number.parseInt(startHex, 16);
    return [{ start, end: start + Number.parseInt(sizeHex, 16), name: name.join(' ') }];
  });
  return {
    nameAt(address) {
      for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.start <= address && address < entries[i]!.end) return entries[i]!.name;
      return undefined;
    },
  };
}
