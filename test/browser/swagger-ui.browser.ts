/**
 * /docs in a real browser (`npm run test:browser`, run by .ci/run): the service listens on 0.0.0.0,
 * headless Chromium opens it over plain HTTP under a non-localhost name (mapped with
 * --host-resolver-rules), and the rendered DOM must hold Swagger UI's operation blocks. A CSP
 * with upgrade-insecure-requests passes every inject()-based test and still renders a blank page
 * here. LATCHKEY_SCREENSHOT=docs/swagger-ui.png also writes the README's screenshot.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../helpers/app.js';

const HOST_NAME = 'latchkey.test';
const CHROMIUM = process.env.CHROMIUM ?? 'chromium';

function chromium(args: string[], profile: string): Promise<{ stdout: string; stderr: string }> {
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    `--host-resolver-rules=MAP ${HOST_NAME} 127.0.0.1`,
  ];
  return new Promise((resolvePromise, reject) => {
    execFile(CHROMIUM, [...flags, ...args], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        return reject(
          new Error(
            missing ? `${CHROMIUM} is not installed: apt-get install -y chromium (.ci/run does it)` : `${CHROMIUM} failed: ${error.message}\n${stderr}`,
          ),
        );
      }
      resolvePromise({ stdout, stderr });
    });
  });
}

describe('Swagger UI at /docs in headless Chromium', () => {
  let t: TestApp;
  let url: string;
  let profile: string;
  before(async () => {
    t = await startTestApp();
    await t.app.listen({ host: '0.0.0.0', port: 0 });
    url = `http://${HOST_NAME}:${(t.app.server.address() as AddressInfo).port}/docs`;
    profile = await mkdtemp(join(tmpdir(), 'latchkey-chromium-'));
  });
  after(async () => {
    await t.close();
    await rm(profile, { recursive: true, force: true });
  });

  test('renders every tag and the operations over plain HTTP on a non-localhost name', async () => {
    const { stdout: dom } = await chromium(['--virtual-time-budget=20000', '--dump-dom', url], profile);
    const operations = dom.match(/class="opblock opblock-(get|post|patch|delete)/g) ?? [];
    const spec = JSON.parse((await t.inject({ method: 'GET', url: '/openapi.json' })).body) as { paths: Record<string, object> };
    const expected = Object.values(spec.paths).reduce((sum, item) => sum + Object.keys(item).length, 0);
    assert.equal(operations.length, expected, `expected ${expected} operation blocks, the page rendered ${operations.length}:\n${dom.slice(0, 2000)}`);
    assert.match(dom, /data-path="\/v1\/orgs\/\{org_id\}\/api-keys"/);
    assert.match(dom, /Latchkey/);
  });

  test('takes a screenshot of the rendered page', async () => {
    const file = resolve(process.env.LATCHKEY_SCREENSHOT ?? join(profile, 'swagger-ui.png'));
    await chromium(['--virtual-time-budget=20000', '--hide-scrollbars', '--window-size=1280,1400', `--screenshot=${file}`, url], profile);
    const png = await readFile(file);
    assert.deepEqual([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    assert.ok(png.length > 20_000, `a ${png.length}-byte screenshot is too small to show the operations`);
  });
});
