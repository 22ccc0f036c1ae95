import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { tokenFixtures } from '../../helpers/oauth.js';

describe('POST /oauth2/token: errors', () => {
  const t = suiteApp();
  const { token } = tokenFixtures(() => t);

  test('an unreadable Basic client credential is 401 invalid_client, not a server error', async () => {
    for (const credential of [Buffer.from('%zz:%zz').toString('base64'), Buffer.from('no-colon').toString('base64')]) {
      const res = await token('grant_type=client_credentials', { authorization: `Basic ${credential}` });
      assert.equal(res.statusCode, 401, res.body);
      assert.equal(res.json().error, 'invalid_client');
    }
  });
});
