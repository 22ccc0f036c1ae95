import type { LoggerOptions } from 'pino';

/**
 * Every secret-bearing field Latchkey knows of, in request headers and in any object that is
 * logged. Bodies are never logged, but a redaction list that covers them costs nothing.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.secret',
  '*.client_secret',
  '*.token',
  '*.access_token',
  '*.password',
  '*.rootToken',
  'secret',
  'client_secret',
  'token',
  'access_token',
  // Node's clientError carries the unparsed request bytes, Authorization header included.
  'err.rawPacket',
  '*.rawPacket',
  'rawPacket',
];

/** Paths that carry a credential, logged by their route template instead. */
const CREDENTIAL_PATHS: Array<[RegExp, string]> = [[/^\/informationservice\/details\/.*$/is, '/informationservice/details/{client_id}']];

function pathForLog(url: string): string {
  const path = url.split('?')[0]!;
  for (const [pattern, template] of CREDENTIAL_PATHS) if (pattern.test(path)) return template;
  return path;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (request: { method: string; url: string; id: string; ip?: string; headers?: Record<string, unknown> }) => ({
        method: request.method,
        // Query strings are not logged: a misguided client may put a secret there.
        url: pathForLog(request.url),
        request_id: request.id,
        remote_address: request.ip,
        user_agent: request.headers?.['user-agent'],
      }),
      res: (reply: { statusCode: number }) => ({ status: reply.statusCode }),
    },
    // Human-readable output only where a human is watching.
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}
