/**
 * What the store's errors mean, in one place: whatever shape they arrive in (raw pg and socket
 * errors, the Prisma adapter's DriverAdapterError, Prisma's P-codes, errors wrapped as causes).
 * The error handler answers an outage 503 store_unavailable; services answer a unique violation
 * with their own name_taken or conflict, which names the clashing value.
 */

// Connection refused/reset/timed out, the server shutting down or terminating us (57P01-57P03),
// connection failures (08xxx), a statement cancelled by statement_timeout (57014), too many
// connections, and Prisma's "can't reach / timed out / connection closed / transaction could not start".
const STORE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '08000',
  '08001',
  '08003',
  '08006',
  '53300',
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
  'P2028',
]);
const STORE_DOWN_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const STORE_DOWN_MESSAGE =
  /Connection terminated|connection timeout|Can't reach database|timeout exceeded when trying to connect|Query read timeout|terminating connection|Client has encountered a connection error|Unable to start a transaction|Server has closed the connection|canceling statement due to statement timeout/i;

/** The database is unreachable, gone, or too slow: a 503 the client may retry, never a 500. */
export function isStoreDown(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; kind?: unknown; originalCode?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0;
    e && depth < 6;
    depth++
  ) {
    if (typeof e.code === 'string' && STORE_DOWN_CODES.has(e.code)) return true;
    if (typeof e.originalCode === 'string' && STORE_DOWN_CODES.has(e.originalCode)) return true;
    if (typeof e.kind === 'string' && STORE_DOWN_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && STORE_DOWN_MESSAGE.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** Prisma's "unique constraint failed" (P2002), with the adapters' error shape too. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string; originalCode?: string }; meta?: { driverAdapterError?: { cause?: { originalCode?: string } } } };
  return e?.code === 'P2002' || e?.cause?.originalCode === '23505' || e?.meta?.driverAdapterError?.cause?.originalCode === '23505';
}
