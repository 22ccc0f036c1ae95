import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';

describe('organizations: security', () => {
  const t = suiteApp();

  test('no credential is 401 with a challenge; a wrong token is 401', async () => {
    const none = await t.inject({ method: 'POST', url: '/v1/orgs', payload: { name: uniqueName() } });
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /Bearer/);
    const wrong = await t.inject({
      method: 'POST',
      url: '/v1/orgs',
      headers: { authorization: 'Bearer lkr_wrong_wrong_wrong_wrong_wrong_wrong_wrong' },
      payload: { name: uniqueName() },
    });
    assert.equal(wrong.statusCode, 401);
  });
});
