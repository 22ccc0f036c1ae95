/**
 * Where the time went during one scenario: reads V8 CPU profiles written by
 * `npm run bench -- --cpu-prof` and keeps only the samples taken during the scenario's measured
 * run (its window_us in the results file; V8 and the runner share CLOCK_MONOTONIC).
 *
 *   node --import tsx bench/profile.ts --scenario verify_cached [--results bench/results/latest.json] [--top 25] bench/results/profiles/*.cpuprofile
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    scenario: { type: 'string' },
    results: { type: 'string', default: 'bench/results/latest.json' },
    top: { type: 'string', default: '25' },
  },
});

let window: [number, number] | undefined;
if (values.scenario) {
  const results = JSON.parse(readFileSync(values.results, 'utf8')) as { scenarios: Record<string, { window_us?: [number, number] }> };
  window = results.scenarios[values.scenario]?.window_us;
  if (!window) throw new Error(`${values.results} has no window_us for scenario ${values.scenario}`);
}
const top = Number(values.top);

/** Groups a frame by what owns it: a package, a source file, Node's internals, or the VM. */
function owner(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const src = /\/(src\/.*)$/.exec(url);
  if (src) return src[1]!;
  if (url.startsWith('wasm')) return 'wasm';
  return url;
}

const label = (frame: CallFrame) =>
  `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${frame.lineNumber + 1}`;

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const owners = new Map<string, number>();
  let total = 0;
  let time = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    if (window && (time < window[0] || time > window[1])) return;
    total += delta;
    const node = nodes.get(id)!;
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + delta);
    owners.set(owner(node.callFrame), (owners.get(owner(node.callFrame)) ?? 0) + delta);
    const seen = new Set<string>();
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const name = label(nodes.get(cursor)!.callFrame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + delta);
    }
  });
  if (total === 0) {
    process.stdout.write(`${file}: no samples in the window (another process's profile?)\n\n`);
    continue;
  }
  const list = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s of samples${window ? ` in ${values.scenario}` : ''}\n`);
  process.stdout.write(`self time by owner:\n${list(owners, 15)}\n`);
  process.stdout.write(`self time by function:\n${list(self, top)}\n`);
  process.stdout.write(`inclusive time:\n${list(inclusive, top)}\n\n`);
}
