import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { b64json, clusterKeyVerifyFixtures } from '../../helpers/cluster-keys.js';

describe('cluster key verification: errors', () => {
  const t = suiteApp();
  const { keyAndForge } = clusterKeyVerifyFixtures(() => t);

  test('garbage of any size is 200 INVALID or a 4xx, never a 5xx', async () => {
    const { clusterId } = await keyAndForge();
    const garbage = [
      'x',
      'a.b.c',
      '...',
      'eyJhbGciOiJSUzI1NiJ9.e30.',
      `${b64json({ alg: 'RS256', kid: 'A'.repeat(16), typ: 'JWT' })}.${'%%%'}.${'!!!'}`,
      `${b64json({ alg: 'RS256', kid: { nested: true }, typ: 'JWT' })}.e30.AA`,
      `${b64json([1, 2])}.${b64json('x')}.AA`,
      Buffer.from(randomBytes(4000)).toString('base64url'),
      `${randomBytes(3000).toString('base64url')}.${randomBytes(3000).toString('base64url')}.${randomBytes(3000).toString('base64url')}`,
      '\u0000.\u0000.\u0000',
      '🔑.🔑.🔑',
    ];
    for (const token of garbage) {
      const res = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers: t.root, payload: { token, cluster_id: clusterId } });
      assert.ok(res.statusCode < 500, `${res.statusCode} for ${token.slice(0, 40)}`);
      if (res.statusCode === 200) assert.equal(res.json().code, 'INVALID', token.slice(0, 40));
    }
    const huge = await t.inject({
      method: 'POST',
      url: '/v1/verify/cluster-key',
      headers: t.root,
      payload: { token: 'a.'.repeat(100_000), cluster_id: clusterId },
    });
    assert.equal(huge.statusCode, 422);
    assert.equal(huge.json().errors[0].path, 'token');
    const missing = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers: t.root, payload: { token: 'a.b.c' } });
    assert.equal(missing.statusCode, 422);
    assert.equal(missing.json().errors[0].path, 'cluster_id');
  });
});
