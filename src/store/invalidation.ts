import { EventEmitter } from 'node:events';

export const INVALIDATION_CHANNEL = 'latchkey_invalidation';

/** Every credential family whose verification results are cached per replica. */
const CREDENTIAL_KINDS = ['api_key', 'cluster_key', 'access_key', 'client'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

// NOTIFY payloads are capped at 8000 bytes by Postgres; ids are at most 64 characters.
const IDS_PER_NOTIFICATION = 100;

/**
 * Credentials whose cached results must be dropped, by kind; `all` after notifications may have
 * been missed (the listener reconnected), so every cache forgets everything.
 */
export type Invalidation =
  | { kind: CredentialKind; ids: string[] /** When the sender announced it (ms since epoch), for the lag metric. */; sentAt?: number }
  | 'all';

/**
 * Tells every replica which cached credentials are no longer valid. Notifications are sent with
 * pg_notify inside the mutating transaction, so Postgres delivers them only if it commits.
 */
export class InvalidationBus {
  readonly #events = new EventEmitter();
  #healthy = true;

  constructor() {
    this.#events.setMaxListeners(0);
  }

  /** Statements (text + params) that the mutating transaction must run to notify all replicas. */
  static notifications(kind: CredentialKind, ids: string[]): Array<{ sql: string; params: [string, string] }> {
    const statements: Array<{ sql: string; params: [string, string] }> = [];
    for (let i = 0; i < ids.length; i += IDS_PER_NOTIFICATION) {
      const payload = JSON.stringify({ kind, ids: ids.slice(i, i + IDS_PER_NOTIFICATION), at: Date.now() });
      statements.push({ sql: 'SELECT pg_notify($1, $2)', params: [INVALIDATION_CHANNEL, payload] });
    }
    return statements;
  }

  /** Called by the store's listener for every notification on the channel (and locally after commit). */
  deliver(invalidation: Invalidation): void {
    this.#events.emit('invalidate', invalidation);
  }

  deliverPayload(payload: string): void {
    try {
      const parsed = JSON.parse(payload) as { kind?: unknown; ids?: unknown; at?: unknown };
      const kind = CREDENTIAL_KINDS.find((k) => k === parsed.kind);
      const sentAt = typeof parsed.at === 'number' && Number.isFinite(parsed.at) ? parsed.at : undefined;
      if (kind && Array.isArray(parsed.ids)) this.deliver({ kind, ids: parsed.ids.filter((id): id is string => typeof id === 'string'), sentAt });
    } catch {
      // Only Latchkey writes to this channel; a malformed payload is ignored rather than fatal.
    }
  }

  /**
   * Whether this replica is known to hear every invalidation: the LISTEN connection is up and its
   * last heartbeat came back in time. While it is false, nothing cached may be served (a
   * revocation could have been missed); every cache checks this before answering from memory.
   * The embedded store delivers in-process and is always healthy.
   */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Set by the store's listener. Either transition drops every cache: notifications may have been missed. */
  setHealthy(healthy: boolean): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.deliver('all');
    this.#events.emit('health', healthy);
  }

  /** Called on every change of `healthy`, for caches that want to react rather than poll. */
  onHealthChange(listener: (healthy: boolean) => void): () => void {
    this.#events.on('health', listener);
    return () => this.#events.off('health', listener);
  }

  subscribe(listener: (invalidation: Invalidation) => void): () => void {
    this.#events.on('invalidate', listener);
    return () => this.#events.off('invalidate', listener);
  }
}
