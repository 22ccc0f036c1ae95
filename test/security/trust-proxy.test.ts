import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestApp } from '../helpers/app.js';

/** The client address the service recorded for a request: the source_ip of the audit event it wrote. */
async function recordedAddress(trustProxy: string, forwardedFor: string, remoteAddress = '127.0.0.1'): Promise<string | null> {
  const t = await startTestApp({ env: { LATCHKEY_TRUST_PROXY: trustProxy } });
  try {
    const res = await t.inject({
      method: 'POST',
      url: '/v1/orgs',
      remoteAddress,
      headers: { ...t.root, 'x-forwarded-for': forwardedFor },
      payload: { name: `proxy-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}` },
    });
    assert.equal(res.statusCode, 201, res.body);
    const event = await t.store.prisma.auditEvent.findFirstOrThrow({ where: { orgId: res.json().id, action: 'organization.create' } });
    return event.sourceIp;
  } finally {
    await t.close();
  }
}

describe('LATCHKEY_TRUST_PROXY: the client address is the right-most one not belonging to a trusted proxy', () => {
  test('false: X-Forwarded-For is ignored', async () => {
    assert.equal(await recordedAddress('false', '203.0.113.7'), '127.0.0.1');
  });

  test('true trusts exactly one hop: a client cannot pick its address by prepending to X-Forwarded-For', async () => {
    assert.equal(await recordedAddress('true', '6.6.6.6, 198.51.100.9'), '198.51.100.9');
  });

  test('a hop count N takes the N-th address from the right', async () => {
    assert.equal(await recordedAddress('2', '6.6.6.6, 198.51.100.9, 10.0.0.5'), '198.51.100.9');
  });

  test('a list of proxy addresses and CIDRs skips exactly those', async () => {
    assert.equal(await recordedAddress('127.0.0.1,10.0.0.0/8', '6.6.6.6, 198.51.100.9, 10.0.0.5'), '198.51.100.9');
    assert.equal(await recordedAddress('10.0.0.0/8', '198.51.100.9'), '127.0.0.1', 'a peer outside the list is the client');
  });
});
