import { isIP } from 'node:net';
import { z } from 'zod';

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** One proxy address or CIDR (IPv4 or IPv6), as proxy-addr (Fastify's trustProxy list) reads it. */
function isProxyAddress(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const version = isIP(address ?? '');
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

/**
 * `false`; `true` (exactly one proxy hop, not Fastify's "trust every hop", which would let a client
 * choose its address by prepending to X-Forwarded-For); a hop count; or the proxies' addresses and
 * CIDRs, comma-separated. The client address is the right-most one not belonging to a trusted proxy.
 */
const trustProxy = z
  .string()
  .default('false')
  .refine((value) => /^(true|false|\d{1,2})$/.test(value) || value.split(',').every((entry) => isProxyAddress(entry.trim())), {
    message: 'must be false, true (one proxy hop), a hop count up to 99, or comma-separated proxy addresses/CIDRs',
  })
  .transform((value): false | number | string[] => {
    if (value === 'false') return false;
    if (value === 'true') return 1;
    if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
    return value.split(',').map((entry) => entry.trim());
  });

/**
 * Fastify's form of the setting. Fastify 5 answers a bare hop count by trusting nothing, so hops are
 * given as a function of the hop index: the first N addresses from the socket inward are proxies.
 */
export function fastifyTrustProxy(value: false | number | string[]): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value;
}

const masterKey = z
  .string()
  .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32, {
    message: 'must be 32 bytes encoded as base64 (openssl rand -base64 32)',
  })
  .transform((value) => Buffer.from(value, 'base64'));

/**
 * `host:port,host:port`: remote key-filter origins exempt from the private-address refusal (still
 * HTTPS with certificate checks). Exact entries only: no wildcards, no port ranges.
 */
const keyFilterAllowedHosts = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((entry) => entry.trim().toLowerCase())
      .filter(Boolean),
  )
  .refine((entries) => entries.every((entry) => /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):[0-9]{1,5}$/.test(entry)), {
    message: 'must be comma-separated host:port entries (IPv6 in brackets), e.g. filters.internal:8443,[fd00::1]:443',
  });

/** The environment, validated once. The only place in the code base that reads process.env. */
const configSchema = z
  .object({
    PORT: int(8080, 0, 65535),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    LATCHKEY_DATA_DIR: z.string().min(1).default('./data'),
    LATCHKEY_ROOT_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    LATCHKEY_MASTER_KEY: masterKey.optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LATCHKEY_TRUST_PROXY: trustProxy,
    LATCHKEY_ARGON2_MEMORY_KIB: int(8192, 1024, 1048576),
    LATCHKEY_ARGON2_TIME_COST: int(1, 1, 10),
    LATCHKEY_ARGON2_PARALLELISM: int(1, 1, 16),
    LATCHKEY_HASH_CONCURRENCY: int(4, 1, 256),
    LATCHKEY_HASH_QUEUE: int(64, 0, 100000),
    LATCHKEY_VERIFY_CACHE_SIZE: int(100000, 0, 10000000),
    LATCHKEY_VERIFY_CACHE_TTL_SECONDS: int(300, 1, 86400),
    LATCHKEY_AUTH_FAILURES_PER_MINUTE: int(30, 1, 1000000),
    LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: int(20, 1, 1000000),
    LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE: int(600, 1, 10000000),
    LATCHKEY_RATE_LIMITED_DELAY_MS: int(500, 0, 10000),
    LATCHKEY_KEY_QUOTA_CLOUD: int(10, 0, 100000),
    LATCHKEY_KEY_QUOTA_OTHER: int(100, 0, 1000000),
    LATCHKEY_RECENT_USE_HOURS: int(24, 0, 8760),
    LATCHKEY_ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 86400),
    /** Prometheus listener (GET /metrics) on HOST; unset: no metrics are kept or served. */
    LATCHKEY_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: keyFilterAllowedHosts,
    LATCHKEY_KEY_FILTER_TIMEOUT_MS: int(2000, 100, 60000),
    LATCHKEY_KEY_FILTER_CACHE_SECONDS: int(0, 0, 86400),
    LATCHKEY_KEY_FILTER_MAX_CONCURRENCY: int(64, 1, 10000),
    LATCHKEY_PUBLIC_URL: z
      .string()
      .regex(/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/, 'must be an http:// or https:// URL without query or fragment')
      .transform((value) => value.replace(/\/+$/, ''))
      .optional(),
    LATCHKEY_CLUSTER_KEY_DEFAULT_DAYS: int(30, 1, 3650),
    LATCHKEY_REVOKED_KEY_RETENTION_DAYS: int(15, 0, 3650),
    LATCHKEY_CLUSTER_KEY_PURGE_INTERVAL_SECONDS: int(300, 1, 86400),
    LATCHKEY_CLIENT_DETAILS_FAILURES_PER_ADDRESS_PER_MINUTE: int(100, 1, 10000000),
    LATCHKEY_CLIENT_DETAILS_CACHE_SIZE: int(50000, 0, 10000000),
  })
  .superRefine((env, ctx) => {
    if (env.DATABASE_URL && !env.LATCHKEY_MASTER_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['LATCHKEY_MASTER_KEY'],
        message: 'is required when DATABASE_URL is set (generate one with: openssl rand -base64 32)',
      });
    }
  });

export type Config = Readonly<z.output<typeof configSchema>>;

/** The issuer prefix of signed tokens: LATCHKEY_PUBLIC_URL, else where this process listens. */
export function publicUrlOf(config: Config): string {
  if (config.LATCHKEY_PUBLIC_URL) return config.LATCHKEY_PUBLIC_URL;
  const host = config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  return `http://${host}:${config.PORT}`;
}

export class ConfigError extends Error {}

/** Parses an environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings are treated as unset, as shells and compose files produce them.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  return Object.freeze(parsed.data);
}
