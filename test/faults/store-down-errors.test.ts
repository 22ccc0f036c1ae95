import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainError } from '../../src/errors.js';
import { toDomainError } from '../../src/plugins/errors.js';
import { isStoreDown, isUniqueViolation } from '../../src/store/errors.js';

// The shapes a lost or slow database reaches the error handler in: raw pg/socket errors, the Prisma
// adapter's DriverAdapterError (kind, originalCode), Prisma's known request errors (P-codes), and
// errors wrapped as causes. Each must map to 503 store_unavailable with Retry-After, never 500.

const cases: Array<[string, unknown]> = [
  ['socket refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
  ['socket reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ['pg connect timeout', new Error('timeout exceeded when trying to connect')],
  ['pg client query timeout', new Error('Query read timeout')],
  ['pg terminated', new Error('Connection terminated unexpectedly')],
  ['admin shutdown (pg_terminate_backend)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
  ['statement_timeout', Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })],
  ['adapter: not reachable', { name: 'DriverAdapterError', message: 'x', cause: { kind: 'DatabaseNotReachable' } }],
  ['adapter: connection closed', { name: 'DriverAdapterError', message: 'x', cause: { kind: 'ConnectionClosed' } }],
  ['adapter: postgres code', { name: 'DriverAdapterError', message: 'x', cause: { kind: 'postgres', originalCode: '57P01' } }],
  [
    'prisma: transaction could not start in time',
    Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' }),
  ],
  ['prisma: pool timeout', { code: 'P2024', message: 'Timed out fetching a new connection from the connection pool' }],
  ['wrapped as a cause', new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNREFUSED' }) })],
];

for (const [name, error] of cases) {
  test(`database down → 503 store_unavailable with Retry-After: ${name}`, () => {
    assert.ok(isStoreDown(error));
    const mapped = toDomainError(error);
    assert.ok(mapped instanceof DomainError);
    assert.equal(mapped.code, 'store_unavailable');
    assert.ok((mapped.options.retryAfterSeconds ?? 0) > 0);
  });
}

test('other errors are not mistaken for an outage', () => {
  assert.equal(isStoreDown(new Error('boom')), false);
  assert.equal(isStoreDown(Object.assign(new Error('duplicate key'), { code: 'P2002' })), false);
  assert.equal(toDomainError(new TypeError('x is undefined')).code, 'internal');
});

test('unique violations are recognised in the shapes Prisma and its adapters give, and are no outage', () => {
  const shapes = [
    Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }),
    { name: 'DriverAdapterError', message: 'x', cause: { kind: 'postgres', originalCode: '23505' } },
    Object.assign(new Error('x'), { meta: { driverAdapterError: { cause: { originalCode: '23505' } } } }),
  ];
  for (const error of shapes) {
    assert.ok(isUniqueViolation(error));
    assert.equal(isStoreDown(error), false);
  }
  assert.equal(isUniqueViolation(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), false);
});
