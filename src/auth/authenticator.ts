import type { FastifyRequest } from 'fastify';
import type { Eventually } from '../lib/eventually.js';
import type { Actor } from './actor.js';

/** One way of presenting a credential. New schemes are added by handing the plugin another one. */
export interface Authenticator {
  scheme: 'bearer' | 'basic';
  /** Whether this authenticator recognises the credential (the part after the scheme). */
  accepts(credential: string): boolean;
  /**
   * The actor, or null when the credential is not valid. `throttled`: the client address is over its
   * failure limit; answer credentials known to be good, but spend no argon2 work on unknown ones.
   * A credential known from a cache is answered synchronously.
   */
  authenticate(credential: string, request: FastifyRequest, throttled: boolean): Eventually<Actor | null>;
}
