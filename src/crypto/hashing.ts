import argon2 from 'argon2';
import type { Config } from '../config.js';
import { OverloadedError } from '../errors.js';

export interface HashingOptions {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  /** argon2 runs on libuv's thread pool; this many run at once. */
  concurrency: number;
  /** Callers beyond the running ones that may wait; more than that are refused with 503. */
  queueLimit: number;
}

/** The configured argon2id parameters and limits; `limits` narrows them for one-off uses. */
export function hashingOptionsFrom(config: Config, limits: Partial<Pick<HashingOptions, 'concurrency' | 'queueLimit'>> = {}): HashingOptions {
  return {
    memoryCost: config.LATCHKEY_ARGON2_MEMORY_KIB,
    timeCost: config.LATCHKEY_ARGON2_TIME_COST,
    parallelism: config.LATCHKEY_ARGON2_PARALLELISM,
    concurrency: limits.concurrency ?? config.LATCHKEY_HASH_CONCURRENCY,
    queueLimit: limits.queueLimit ?? config.LATCHKEY_HASH_QUEUE,
  };
}

export interface SecretCheck {
  ok: boolean;
  /** The hash was made with other parameters than the configured ones and should be replaced. */
  needsRehash: boolean;
}

/**
 * argon2id hashing with a concurrency cap. Overflow is refused (OverloadedError → 503 with
 * Retry-After) instead of queueing without bound: a flood of cold verifications must not grow
 * memory and latency for everyone else.
 */
export class SecretHasher {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly options: HashingOptions) {}

  /** Callers waiting for a slot (the latchkey_hash_queue_depth gauge). */
  get queueDepth(): number {
    return this.#waiting.length;
  }

  hash(secret: string): Promise<string> {
    return this.#limit(() =>
      argon2.hash(secret, {
        type: argon2.argon2id,
        memoryCost: this.options.memoryCost,
        timeCost: this.options.timeCost,
        parallelism: this.options.parallelism,
      }),
    );
  }

  async verify(hash: string, secret: string): Promise<SecretCheck> {
    const ok = await this.#limit(() => argon2.verify(hash, secret).catch(() => false));
    const needsRehash =
      ok &&
      argon2.needsRehash(hash, {
        memoryCost: this.options.memoryCost,
        timeCost: this.options.timeCost,
        parallelism: this.options.parallelism,
      });
    return { ok, needsRehash };
  }

  async #limit<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.options.concurrency) {
      if (this.#waiting.length >= this.options.queueLimit) throw new OverloadedError();
      await new Promise<void>((resume) => this.#waiting.push(resume));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, so #running stays accurate.
      if (next) next();
      else this.#running--;
    }
  }
}
