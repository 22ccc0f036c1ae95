import { z } from 'zod';

const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');

const masterKey = z
  .string()
  .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === 32, {
    message: 'must be 32 bytes encoded as base64 (openssl rand -base64 32)',
  })
  .transform((value) => Buffer.from(value, 'base64'));

/** The environment, validated once. The only place in the code base that reads process.env. */
export const configSchema = z
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
    LATCHKEY_TRUST_PROXY: bool(false),
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
