/**
 * Writes openapi/openapi.json from the routes' zod schemas (`npm run openapi`). The committed file
 * is checked by test/openapi.test.ts, so it must come out byte-identical on every machine: the app
 * is built from a fixed configuration, never from the caller's environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/index.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));

/** The OpenAPI document as the running app serves it, rendered as the committed file is. */
export async function generateOpenApi(): Promise<string> {
  const logger = pino({ level: 'silent' });
  const config = loadConfig({});
  const store = await openStore({ logger });
  try {
    const app = await buildApp({ config, store, masterKey: randomBytes(32), logger });
    try {
      await app.ready();
      return `${JSON.stringify(app.swagger(), null, 2)}\n`;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const document = await generateOpenApi();
  await mkdir(new URL('../openapi/', import.meta.url), { recursive: true });
  await writeFile(OPENAPI_FILE, document);
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
}
