#!/usr/bin/env node
// The `latchkey` command (package.json "bin"). In a checkout with dev dependencies (a fresh clone
// after `npm install`) it runs the TypeScript source through tsx, so it is never stale; where only
// the compiled code exists (the Docker image, `npm ci --omit=dev` after `npm run build`) it runs
// dist/. It never builds anything itself.
import { existsSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const source = new URL('src/cli/main.ts', root);
const compiled = new URL('dist/src/cli/main.js', root);

let entry;
if (existsSync(source)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = source;
  } catch {
    // tsx is a dev dependency: absent after `npm ci --omit=dev`.
  }
}
if (!entry && existsSync(compiled)) entry = compiled;
if (!entry) {
  process.stderr.write('latchkey: neither tsx (npm install) nor a build (npm run build) is present\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
