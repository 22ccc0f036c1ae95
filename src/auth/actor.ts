import type { Binding } from './roles.js';

/** Who is making a request, as established by the auth plugin. */
export type Actor =
  | { kind: 'root' }
  | {
      kind: 'principal';
      principalId: string;
      principalType: 'service_account' | 'user';
      orgId: string;
      bindings: Binding[];
      /** The cloud API key that authenticated the request, directly or through an access token. */
      apiKeyId: string;
    };

/** What a service needs to know about the request: who, and what to write in the audit trail. */
export interface RequestContext {
  actor: Actor;
  requestId: string;
  sourceIp: string;
}

export const actorId = (actor: Actor): string => (actor.kind === 'root' ? 'root' : actor.principalId);
