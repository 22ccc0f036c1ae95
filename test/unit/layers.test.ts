import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

// The import rule of src/README.md ("What may import what"), checked on the source text: a
// layer imports only from the layers below it. Type-only imports count too, except of deps.ts
// (the composition root's interface that services take; erased at run time).

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The top-level folder (or file) of src/ a path belongs to: `store`, `modules`, `errors.ts`… */
const layerOf = (path: string) => relative(SRC, path).split('/')[0]!;

function importsOf(file: string): Array<{ target: string; typeOnly: boolean }> {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import (type )?[^;]*? from '(\.[^']+)';/gms)].map((match) => ({
    target: resolve(dirname(file), match[2]!.replace(/\.js$/, '.ts')),
    typeOnly: match[1] !== undefined,
  }));
}

const files = sourceFiles(SRC);

/** Each layer, and the layers it may import from (itself always). */
const ALLOWED: Record<string, readonly string[]> = {
  store: ['generated'],
  'errors.ts': [],
  'config.ts': ['errors.ts'],
  'logger.ts': ['config.ts'],
  crypto: ['store', 'errors.ts', 'config.ts'],
  schemas: ['errors.ts', 'lib'],
  auth: ['store', 'crypto', 'errors.ts', 'config.ts', 'lib', 'deps.ts'],
  lib: ['store', 'errors.ts', 'plugins'],
  plugins: ['store', 'crypto', 'auth', 'errors.ts', 'config.ts', 'lib', 'schemas', 'metrics.ts', 'logger.ts'],
  'metrics.ts': ['store'],
  client: [],
  cli: ['client'],
};

describe('layers: what may import what (src/README.md)', () => {
  test('every file of a lower layer imports only from the layers its rule names', () => {
    const broken: string[] = [];
    for (const file of files) {
      const layer = layerOf(file);
      const allowed = ALLOWED[layer];
      if (!allowed) continue; // modules/ and the composition root (app.ts, server.ts, deps.ts) may import anything below them
      for (const { target, typeOnly } of importsOf(file)) {
        if (!target.startsWith(SRC)) continue;
        const to = layerOf(target);
        if (to === layer || allowed.includes(to) || (typeOnly && to === 'deps.ts')) continue;
        broken.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  test('nothing but the composition root imports a module from modules/ outside modules/', () => {
    const broken = files
      .filter((file) => !['modules', 'app.ts', 'deps.ts', 'server.ts'].includes(layerOf(file)))
      .flatMap((file) =>
        importsOf(file)
          .filter(({ target, typeOnly }) => target.startsWith(join(SRC, 'modules')) && !typeOnly)
          .map(({ target }) => `${relative(SRC, file)} imports ${relative(SRC, target)}`),
      );
    assert.deepEqual(broken, []);
  });

  test('the rule sees imports: a module file is found importing the store', () => {
    const service = join(SRC, 'modules/api-keys/service.ts');
    assert.ok(importsOf(service).some(({ target }) => layerOf(target) === 'store'));
  });
});
