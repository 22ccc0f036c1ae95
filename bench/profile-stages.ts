/**
 * The share of CPU per stage of a request during one scenario, for the table in bench/README.md
 * ("Where the time goes"). Reads the same inputs as bench/profile.ts:
 *
 *   node --import tsx bench/profile-stages.ts --scenario verify_cached [--results bench/results/latest.json] bench/results/profiles/*.cpuprofile
 *
 * A sample goes to a leaf stage (idle, GC, VM, the socket write) when its leaf is one, else to a
 * stage that claims its whole subtree when one of its frames matches (the auth of the Verifier
 * caller, so the digest of the Verifier's own Basic credential counts there and not as "cache
 * lookup + digest"; usage recording), else to the innermost frame's stage, walking from the leaf
 * towards the root and stopping at the first Fastify frame. The stop matters: Fastify runs the
 * next step of a request inside the `done` of the hook before it, so once the handler answers
 * synchronously, validation, the handler, serialization and the write all run inside the input
 * plugin's hook; a frame further out does not own what runs inside it. Shares are of busy
 * (non-idle) time.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const src = (path: string) => (frame: CallFrame) => frame.url.includes(`/src/${path}`);
const pkg = (name: string) => (frame: CallFrame) => frame.url.includes(`/node_modules/${name}/`);
const any =
  (...tests: Array<(frame: CallFrame) => boolean>) =>
  (frame: CallFrame) =>
    tests.some((test) => test(frame));
const leaf =
  (...names: string[]) =>
  (frame: CallFrame, isLeaf: boolean) =>
    isLeaf && names.includes(frame.functionName);

const STAGES: Array<[string, (frame: CallFrame, isLeaf: boolean) => boolean]> = [
  ['idle', leaf('(idle)')],
  ['garbage collection', leaf('(garbage collector)')],
  ['VM (program)', leaf('(program)')],
  ['socket write (writev; the baseline pays it too)', leaf('writev', 'writeUtf8String', 'writeBuffer')],
  ['auth of the Verifier caller', any(src('plugins/auth'), src('modules/oauth/'), src('auth/'))],
  ['audit/usage recording', any(src('modules/api-keys/usage'), src('modules/audit/'))],
  [
    'cache lookup + digest',
    any(src('modules/api-keys/verifier'), src('modules/access-keys/verifier'), src('modules/cluster-keys/verifier'), src('lib/verify-cache'), pkg('lru-cache')),
  ],
  ['zod validation', any(pkg('zod'), pkg('fastify-type-provider-zod'))],
  [
    'verify handler (own code, failure limits)',
    any(
      src('modules/verify/'),
      src('modules/api-keys/'),
      src('modules/access-keys/'),
      src('modules/cluster-keys/'),
      src('lib/rate-limit'),
      src('crypto/tokens'),
    ),
  ],
  ['logging', any(pkg('pino'), pkg('@pinojs/redact'), pkg('pino-std-serializers'), src('logger'))],
  // The input plugin's hooks start below its content-type parser (line ~120 of input.ts).
  [
    'hooks (input scan, idempotency, metrics)',
    any(
      src('plugins/idempotency'),
      src('plugins/metrics'),
      pkg('prom-client'),
      (f) => f.url.includes('/src/plugins/input') && (f.lineNumber >= 125 || /Problem|maySuspect/.test(f.functionName)),
    ),
  ],
  ['body parsing', any(pkg('secure-json-parse'), (f) => f.url.includes('fastify/lib/content-type-parser'), src('plugins/input'))],
  ['request id', (f) => /requestIdFrom|genReqId/.test(f.functionName)],
  ['serialization', any(src('plugins/serializer'), pkg('fast-json-stringify'), (f) => /serialize/i.test(f.functionName))],
  ['headers', any(src('plugins/security'), (f) => /^(_storeHeader|writeHead|setHeader|header|headers|processHeader|_addHeaderLine)$/.test(f.functionName))],
  ['HTTP parsing + routing (Node, find-my-way)', any(pkg('find-my-way'), (f) => f.url === 'node:_http_common' || f.functionName.startsWith('parserOn'))],
];
const OTHER = 'other (Fastify and Node request lifecycle)';
/** Stages whose frames claim every sample below them; the others take a sample by its innermost matching frame. */
const CLAIMS_SUBTREE = new Set([
  'idle',
  'garbage collection',
  'VM (program)',
  'socket write (writev; the baseline pays it too)',
  'auth of the Verifier caller',
  'audit/usage recording',
]);
const isFastify = (frame: CallFrame) => frame.url.includes('/node_modules/fastify/lib/');

/** The stage of a stack given leaf first (see the header comment). */
function stageOfStack(stack: readonly CallFrame[]): string {
  const claimed = STAGES.find(([name, match]) => CLAIMS_SUBTREE.has(name) && stack.some((frame, index) => match(frame, index === 0)));
  if (claimed) return claimed[0];
  for (const [index, frame] of stack.entries()) {
    const stage = STAGES.find(([name, match]) => !CLAIMS_SUBTREE.has(name) && match(frame, index === 0));
    if (stage) return stage[0];
    if (isFastify(frame)) return OTHER;
  }
  return OTHER;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { scenario: { type: 'string' }, results: { type: 'string', default: 'bench/results/latest.json' } },
});
if (!values.scenario) throw new Error('--scenario is required');
const results = JSON.parse(readFileSync(values.results, 'utf8')) as { scenarios: Record<string, { window_us?: [number, number] }> };
const window = results.scenarios[values.scenario]?.window_us;
if (!window) throw new Error(`${values.results} has no window_us for scenario ${values.scenario}`);

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stageOf = new Map<number, string>();
  const classify = (id: number): string => {
    let stage = stageOf.get(id);
    if (stage) return stage;
    const stack: CallFrame[] = [];
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) stack.push(nodes.get(cursor)!.callFrame);
    stage = stageOfStack(stack);
    stageOf.set(id, stage);
    return stage;
  };
  const byStage = new Map<string, number>();
  let total = 0;
  let time = profile.startTime;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    if (time < window[0] || time > window[1]) return;
    total += delta;
    const stage = classify(id);
    byStage.set(stage, (byStage.get(stage) ?? 0) + delta);
  });
  if (total === 0) {
    process.stdout.write(`${file}: no samples in the window (another process's profile?)\n\n`);
    continue;
  }
  const idle = byStage.get('idle') ?? 0;
  byStage.delete('idle');
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s in ${values.scenario}, ${((100 * idle) / total).toFixed(1)}% idle; share of busy time:\n`);
  for (const [stage, us] of [...byStage].sort((a, b) => b[1] - a[1])) {
    process.stdout.write(`  ${((100 * us) / (total - idle)).toFixed(1).padStart(5)}%  ${stage}\n`);
  }
  process.stdout.write('\n');
}
