import pino from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/index.js';
import { ensureRootToken } from '../src/auth/root-token.js';
import { SecretHasher } from '../src/crypto/hashing.js';
const logger = pino({ level: 'warn' });
const config = loadConfig({ LATCHKEY_ROOT_TOKEN: 'x'.repeat(40) });
const store = await openStore({ logger });
await ensureRootToken(store.prisma, new SecretHasher({memoryCost: 8192, timeCost:1, parallelism:1, concurrency:1, queueLimit:1}), 'x'.repeat(40));
const app = await buildApp({ config, store, masterKey: Buffer.alloc(32), logger });
await app.ready();
const auth = { authorization: 'Bearer ' + 'x'.repeat(40) };
for (const [m, u, b] of [['GET','/healthz'],['GET','/readyz'],['POST','/v1/orgs',{name:'acme'}],['POST','/v1/orgs',{name:'acme'}],['POST','/v1/orgs',{name:'Bad Name', extra: 1}],['GET','/v1/orgs'],['GET','/nope']] as const) {
  const res = await app.inject({ method: m, url: u, payload: b as any, headers: auth });
  console.log(m, u, res.statusCode, res.headers['content-type'], res.body.slice(0, 300));
}
const r = await app.inject({ method: 'POST', url: '/v1/orgs', payload: '{bad', headers: { ...auth, 'content-type': 'application/json' } });
console.log(r.statusCode, r.body);
const r2 = await app.inject({ method: 'GET', url: '/v1/orgs' });
console.log(r2.statusCode, r2.headers['www-authenticate'], r2.body);
const spec = app.swagger();
console.log(Object.keys((spec as any).paths), JSON.stringify((spec as any).components).slice(0, 500));
await app.close(); await store.close();
