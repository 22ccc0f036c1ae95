/**
 * The ceiling: a bare Fastify process that parses the same JSON request a verification sends and
 * answers a fixed small JSON body. No logging, no validation, no work: what this machine's HTTP
 * stack can do with the benchmark's load settings.
 */
import Fastify from 'fastify';

const port = Number(process.env.PORT ?? 0);
const app = Fastify({ logger: false });
const answer = { valid: true, code: 'VALID' };

app.post('/v1/verify/api-key', async () => answer);
app.get('/healthz', async () => ({ status: 'ok' }));

const close = async () => {
  await app.close();
  process.exit(0);
};
process.once('SIGTERM', () => void close());
process.once('SIGINT', () => void close());

await app.listen({ port, host: '127.0.0.1' });
