import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { decodeBasic } from '../../auth/basic.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../../errors.js';
import { routesOf } from '../../lib/route.js';
import { issueAccessToken, OAuthError } from './service.js';

const tokenRequest = z
  .object({
    grant_type: z.string().max(64).describe('client_credentials'),
    client_id: z.string().max(64).optional().describe('Cloud API key id (or send it as HTTP Basic)'),
    client_secret: z.string().max(256).optional().describe('Cloud API key secret'),
    scope: z.string().max(1024).optional(),
  })
  .meta({
    examples: [{ grant_type: 'client_credentials', client_id: '9CIJUVE85G3GH1MJ', client_secret: 'lks_sESXRHrctWmSzAvkb8L4oAZawHvxxIsvruOh4owaz6A22XcBV' }],
  });

const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
});

const oauthError = z.object({
  error: z.enum(['invalid_request', 'invalid_client', 'unsupported_grant_type', 'invalid_scope']),
  error_description: z.string(),
});

/** Client credentials sent as HTTP Basic; an unreadable Basic header fails client authentication. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | 'unreadable' | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  return decodeBasic(header.slice(6), true) ?? 'unreadable';
}

export default async function oauthRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  // RFC 6749 clients send form bodies; this plugin's encapsulation keeps the parser to this route.
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  routesOf(app, { tags: ['oauth'] })({
    method: 'POST',
    url: '/oauth2/token',
    operationId: 'issueAccessToken',
    summary: 'Exchange a cloud API key for a short-lived access token (client credentials)',
    // Errors here follow RFC 6749 §5.2, not problem+json: OAuth clients parse `error`.
    auth: 'public',
    attachValidation: true,
    consumes: ['application/x-www-form-urlencoded', 'application/json'],
    body: tokenRequest,
    response: { 200: tokenResponse, 400: oauthError, 401: oauthError },
    handler: async (request, reply) => {
      // As on every route, the limit refuses failures, not a client that presents the right secret.
      const retryAfterSeconds = deps.authFailures.retryAfter(request.ip);
      try {
        if (request.validationError) throw new OAuthError('invalid_request', request.validationError.message);
        const basic = basicCredentials(request.headers.authorization);
        if (basic === 'unreadable') throw new OAuthError('invalid_client', 'the Basic credential is not base64(client_id:client_secret)');
        return await issueAccessToken(deps, request.body, basic, retryAfterSeconds > 0);
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        if (retryAfterSeconds > 0) throw new DomainError('rate_limited', 'too many failed authentication attempts from this address', { retryAfterSeconds });
        if (error.error === 'invalid_client') {
          deps.authFailures.recordFailure(request.ip);
          reply.header('www-authenticate', 'Basic realm="latchkey"');
        }
        return reply
          .code(error.error === 'invalid_client' ? 401 : 400)
          .header('pragma', 'no-cache')
          .send({ error: error.error, error_description: error.description });
      }
    },
  });
}
