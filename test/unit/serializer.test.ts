import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { z } from 'zod';
import { apiKeySchema } from '../../src/modules/api-keys/schemas.js';
import { ResponseMismatchError, responseSerializerCompiler } from '../../src/plugins/serializer.js';
import { listOf } from '../../src/schemas/common.js';

const compile = (schema: z.ZodType) => responseSerializerCompiler({ schema, method: 'GET', url: '/test', httpStatus: '200' });

const key = {
  id: 'ABCDEFGH12345678',
  secret_hint: 'wxyz',
  type: 'resource',
  owner: { id: 'sa-1', type: 'service_account' },
  scope: { type: 'resource', resource_id: 'lkc-1' },
  display_name: 'k',
  description: '',
  status: 'active',
  created_at: '2026-11-24T10:00:00.000Z',
  expires_at: null,
  last_used_at: null,
};

test('writes what the zod schema declares, as zod would', () => {
  const schema = listOf(apiKeySchema);
  const page = { data: [key], next_page_token: 'abc' };
  const written = compile(schema)(page);
  assert.deepEqual(JSON.parse(written), schema.parse(page));
});

test('fields the schema does not declare never leave the service', () => {
  const written = JSON.parse(compile(apiKeySchema)({ ...key, secret_hash: '$argon2id$v=19$...', previous_secret_hash: 'x' }));
  assert.equal('secret_hash' in written, false);
  assert.equal('previous_secret_hash' in written, false);
  assert.equal(written.id, key.id);
});

test('a body missing a required field, or matching no union branch, is refused', () => {
  const write = compile(apiKeySchema);
  const { secret_hint: _omitted, ...withoutHint } = key;
  assert.throws(() => write(withoutHint), ResponseMismatchError);
  assert.throws(() => write({ ...key, scope: { type: 'nonsense' } }), ResponseMismatchError);
});
