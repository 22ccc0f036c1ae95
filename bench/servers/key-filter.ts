/**
 * A remote key filter for verify_access_key_filter: HTTPS on KEY_FILTER_PORT with the certificate
 * in KEY_FILTER_CERT/KEY_FILTER_KEY (files), answering every POST after about 1 ms with a short
 * text derived from the body. Plain HTTP on PORT serves /healthz for the runner's readiness check.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';

const port = Number(process.env.PORT ?? 0);
const filterPort = Number(process.env.KEY_FILTER_PORT);

const filter = createHttpsServer({ key: readFileSync(process.env.KEY_FILTER_KEY!), cert: readFileSync(process.env.KEY_FILTER_CERT!) }, (request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    setTimeout(() => response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`tenant=${body}`), 1);
  });
});
filter.keepAliveTimeout = 60_000;
const health = createHttpServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));

const close = () => {
  filter.close();
  health.close();
  process.exit(0);
};
process.once('SIGTERM', close);
process.once('SIGINT', close);

await new Promise<void>((resolve) => filter.listen(filterPort, '127.0.0.1', resolve));
await new Promise<void>((resolve) => health.listen(port, '127.0.0.1', resolve));
