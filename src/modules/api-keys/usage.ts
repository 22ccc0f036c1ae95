import type { Logger } from 'pino';
import type { Db } from '../../store/index.js';

/** A key's last_used_at is written at most this often per replica. */
export const USAGE_WRITE_INTERVAL_MS = 60_000;
/** Pending first-uses are flushed together this often. */
const FLUSH_INTERVAL_MS = 250;

/**
 * Batches last_used_at writes. The first use of a key in a minute is written within
 * FLUSH_INTERVAL_MS (together with every other key's first use); later uses in that minute are
 * not written at all. So the stored value is never older than the true last use by more than
 * USAGE_WRITE_INTERVAL_MS, which is what the "recently used" guard on principal deletion relies on.
 */
export class UsageRecorder {
  readonly #lastWritten = new Map<string, number>();
  readonly #pending = new Map<string, Date>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    /** The credential table whose last_used_at this recorder writes (every family batches the same way; a constant of the code, never input). */
    private readonly table: 'api_keys' | 'access_keys' | 'cluster_keys' = 'api_keys',
  ) {}

  touch(keyId: string, now = Date.now()): void {
    const written = this.#lastWritten.get(keyId);
    if (written !== undefined && now - written < USAGE_WRITE_INTERVAL_MS) return;
    this.#lastWritten.set(keyId, now);
    if (this.#lastWritten.size > 200_000) this.#lastWritten.delete(this.#lastWritten.keys().next().value!);
    this.#pending.set(keyId, new Date(now));
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Writes pending uses now; resolves when they are stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = [...this.#pending];
    this.#pending.clear();
    this.#flushing = this.#flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.db.$executeRawUnsafe(
          `UPDATE ${this.table} AS k SET last_used_at = u.used_at
             FROM unnest($1::text[], $2::timestamptz[]) AS u(id, used_at)
            WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at)`,
          batch.map(([id]) => id),
          batch.map(([, at]) => at.toISOString()),
        );
      } catch (error) {
        // Losing a usage timestamp must not fail verification; the next use writes it again.
        for (const [id] of batch) this.#lastWritten.delete(id);
        this.logger.warn({ err: error, keys: batch.length }, `could not record ${this.table} usage`);
      }
    });
    return this.#flushing;
  }
}
