import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';

describe('organizations: errors', () => {
  const t = suiteApp();

  const createOrg = (body: unknown) => t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: body as object });

  test('a duplicate name is 409 name_taken and creates nothing', async () => {
    const name = uniqueName('dup');
    assert.equal((await createOrg({ name })).statusCode, 201);
    const res = await createOrg({ name });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'name_taken');
    assert.equal(await t.store.prisma.organization.count({ where: { name } }), 1);
  });

  test('invalid fields are 422 with every field named', async () => {
    const res = await createOrg({ name: 'Not A Slug', display_name: '', colour: 'red' });
    assert.equal(res.statusCode, 422);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    const paths = res
      .json()
      .errors.map((e: { path: string }) => e.path)
      .sort();
    assert.deepEqual(paths, ['colour', 'display_name', 'name']);
  });

  test('malformed JSON is 400, a wrong media type 415, an oversized body 413', async () => {
    const malformed = await t.inject({ method: 'POST', url: '/v1/orgs', headers: { ...t.root, 'content-type': 'application/json' }, payload: '{"name":' });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().code, 'malformed_json');
    const media = await t.inject({ method: 'POST', url: '/v1/orgs', headers: { ...t.root, 'content-type': 'text/xml' }, payload: '<name/>' });
    assert.equal(media.statusCode, 415);
    const big = await t.inject({
      method: 'POST',
      url: '/v1/orgs',
      headers: { ...t.root, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }),
    });
    assert.equal(big.statusCode, 413);
  });
});
