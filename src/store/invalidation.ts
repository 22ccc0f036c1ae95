import { EventEmitter } from 'node:events';

export const INVALIDATION_CHANNEL = 'latchkey_invalidation';

// NOTIFY payloads are capped at 8000 bytes by Postgres; API key ids are 16 characters.
const IDS_PER_NOTIFICATION = 300;

export interface Invalidation {
  /** API key ids whose cached results must be dropped; `all` after notifications may have been missed. */
  apiKeys: string[] | 'all';
}

/**
 * Tells every replica which cached credentials are no longer valid. Notifications are sent with
 * pg_notify inside the mutating transaction, so Postgres delivers them only if it commits.
 */
export class InvalidationBus {
  readonly #events = new EventEmitter();

  constructor() {
    this.#events.setMaxListeners(0);
  }

  /** Statements (text + params) that the mutating transaction must run to notify all replicas. */
  static notifications(apiKeyIds: string[]): Array<{ sql: string; params: [string, string] }> {
    const chunks: string[][] = [];
    for (let i = 0; i < apiKeyIds.length; i += IDS_PER_NOTIFICATION) {
      chunks.push(apiKeyIds.slice(i, i + IDS_PER_NOTIFICATION));
    }
    return chunks.map((apiKeys) => ({
      sql: 'SELECT pg_notify($1, $2)',
      params: [INVALIDATION_CHANNEL, JSON.stringify({ apiKeys })],
    }));
  }

  /** Called by the store's listener for every notification on the channel (and locally after commit). */
  deliver(invalidation: Invalidation): void {
    this.#events.emit('invalidate', invalidation);
  }

  deliverPayload(payload: string): void {
    try {
      const parsed = JSON.parse(payload) as Partial<Invalidation>;
      if (Array.isArray(parsed.apiKeys)) this.deliver({ apiKeys: parsed.apiKeys.filter((id) => typeof id === 'string') });
    } catch {
      // Only Latchkey writes to this channel; a malformed payload is ignored rather than fatal.
    }
  }

  subscribe(listener: (invalidation: Invalidation) => void): () => void {
    this.#events.on('invalidate', listener);
    return () => this.#events.off('invalidate', listener);
  }
}
