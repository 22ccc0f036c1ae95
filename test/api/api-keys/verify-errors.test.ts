import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';

describe('POST /v1/verify/api-key: errors', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '5', LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE: '1000' } }));

  const verify = (payload: object, headers: Record<string, string> = t.root, remoteAddress?: string) =>
    t.inject({ method: 'POST', url: '/v1/verify/api-key', headers, payload, ...(remoteAddress ? { remoteAddress } : {}) });

  test('missing fields are 422 naming each', async () => {
    const res = await verify({ key: 'ABC' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(
      res
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
      ['resource_id', 'secret'],
    );
  });
});
