import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { DomainError, PROBLEMS, type ProblemCode, problemType } from '../../src/errors.js';
import { Tarpit } from '../../src/lib/rate-limit.js';
import errorsPlugin, { AUTHENTICATE_CHALLENGE, handleErrors } from '../../src/plugins/errors.js';
import { standardErrors } from '../../src/schemas/common.js';

// The error catalogue walked code by code: documented, raised somewhere, answered with its status.

const root = join(import.meta.dirname, '..', '..');
const codes = Object.keys(PROBLEMS) as ProblemCode[];

/** GitHub's heading anchors: lower case, punctuation other than `-` and `_` dropped, spaces as `-`. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** docs/errors.md's sections by anchor: each `###` heading and the text up to the next heading. */
function docSections(): Map<string, string> {
  const sections = new Map<string, string>();
  const parts = readFileSync(join(root, 'docs', 'errors.md'), 'utf8').split(/^(?=#{1,3} )/m);
  for (const part of parts) {
    const match = /^### (.+)\n([\s\S]*)$/.exec(part);
    if (match) sections.set(anchorOf(match[1]!), match[2]!);
  }
  return sections;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('docs/errors.md documents every code of the catalogue', () => {
  const sections = docSections();

  for (const code of codes) {
    test(`${code}: a section anchored by the code, with status, title, when it happens and what to do`, () => {
      const { status, title, when, docs } = PROBLEMS[code];
      assert.equal(docs, `docs/errors.md#${code}`);
      assert.equal(problemType(code).split(':').at(-1), docs.split('#')[1], 'the type URN ends in the anchor');
      const section = sections.get(code);
      assert.ok(section, `docs/errors.md has no "### ${code}" section`);
      assert.ok(section.includes(`**${status} ${title}**`), `${code}: the section does not state **${status} ${title}**`);
      assert.ok(section.includes(when), `${code}: the section does not say when it happens, as the catalogue does: "${when}"`);
      assert.match(section, /What to do:/, `${code}: the section does not say what the client should do`);
    });
  }

  test('documents no code the catalogue does not have', () => {
    const codeSections = [...sections.keys()].filter((anchor) => /^[a-z_]+$/.test(anchor));
    assert.deepEqual(
      codeSections.filter((anchor) => !(anchor in PROBLEMS)),
      [],
    );
  });
});

test('every code of the catalogue is raised somewhere in src/, and nothing raises a code outside it', () => {
  const raised = new Set<string>();
  for (const file of sourceFiles(join(root, 'src'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/(?:DomainError|super)\(\s*'([a-z_]+)'/g)) raised.add(match[1]!);
  }
  assert.deepEqual(
    codes.filter((code) => !raised.has(code)),
    [],
    'codes no source file raises: remove them from the catalogue',
  );
  assert.deepEqual(
    [...raised].filter((code) => !(code in PROBLEMS)),
    [],
  );
});

test('the error responses every route declares are statuses of catalogue codes', () => {
  const statuses = new Set(Object.values(PROBLEMS).map((entry) => String(entry.status)));
  assert.deepEqual(
    Object.keys(standardErrors).filter((status) => !statuses.has(status)),
    [],
  );
});

describe('the error handler answers each code with its catalogue status', () => {
  async function appRaising(register: (app: FastifyInstance) => Promise<void>) {
    const app = Fastify();
    await register(app);
    await app.ready();
    return app;
  }
  const raise = async (request: { params: unknown }) => {
    const { code } = request.params as { code: ProblemCode };
    throw new DomainError(code, `raised ${code}`, code === 'rate_limited' || code === 'store_unavailable' ? { retryAfterSeconds: 3 } : {});
  };

  test('problem+json: status, type URN, title, code and detail; WWW-Authenticate on 401, Retry-After when given', async (t) => {
    const app = await appRaising(async (app) => {
      await app.register(errorsPlugin, { tarpit: new Tarpit(0) });
      app.get('/raise/:code', raise);
    });
    t.after(() => app.close());
    for (const code of codes) {
      const res = await app.inject({ method: 'GET', url: `/raise/${code}` });
      const { status, title } = PROBLEMS[code];
      assert.equal(res.statusCode, status, code);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.deepEqual(res.json(), { type: `urn:latchkey:problem:${code}`, title, status, detail: `raised ${code}`, code, request_id: res.json().request_id });
      assert.equal(res.headers['www-authenticate'], status === 401 ? AUTHENTICATE_CHALLENGE : undefined, code);
      assert.equal(res.headers['retry-after'], code === 'rate_limited' || code === 'store_unavailable' ? '3' : undefined, code);
    }
  });

  test('a scope with its own error shape (as /iam/v2 and the Insights routes have) gets the same statuses and headers', async (t) => {
    const app = await appRaising(async (app) => {
      await app.register(errorsPlugin, { tarpit: new Tarpit(0) });
      await app.register(
        async (scope) => {
          handleErrors(
            scope,
            new Tarpit(0),
            (reply, _request, error) => reply.type('application/json').send({ failed: error.code }),
            () => 'no such route',
          );
          scope.get('/raise/:code', raise);
        },
        { prefix: '/shaped' },
      );
    });
    t.after(() => app.close());
    for (const code of codes) {
      const res = await app.inject({ method: 'GET', url: `/shaped/raise/${code}` });
      assert.equal(res.statusCode, PROBLEMS[code].status, code);
      assert.deepEqual(res.json(), { failed: code });
      assert.equal(res.headers['www-authenticate'], PROBLEMS[code].status === 401 ? AUTHENTICATE_CHALLENGE : undefined, code);
      assert.equal(res.headers['retry-after'], code === 'rate_limited' || code === 'store_unavailable' ? '3' : undefined, code);
    }
    const unknown = await app.inject({ method: 'GET', url: '/shaped/nowhere' });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { failed: 'not_found' });
  });
});
