/**
 * Writes openapi/openapi.json from the routes' zod schemas (`npm run openapi`), and the TypeScript
 * types of the client generated from it (src/client/openapi.ts, openapi-typescript) that the CLI
 * is built on. Both committed files are checked by test/openapi.test.ts, so they must come out
 * byte-identical on every machine: the app is built from a fixed configuration, never from the
 * caller's environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS from 'openapi-typescript';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/index.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));
export const CLIENT_TYPES_FILE = fileURLToPath(new URL('../src/client/openapi.ts', import.meta.url));

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

/** The client's types (paths, operations, components) generated from an OpenAPI document. */
export async function generateClientTypes(document: string): Promise<string> {
  return openapiTS(JSON.parse(document), { silent: true, alphabetize: false });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const document = await generateOpenApi();
  await mkdir(new URL('../openapi/', import.meta.url), { recursive: true });
  await writeFile(OPENAPI_FILE, document);
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
  await writeFile(CLIENT_TYPES_FILE, await generateClientTypes(document));
  process.stdout.write(`wrote ${CLIENT_TYPES_FILE}\n`);
}
