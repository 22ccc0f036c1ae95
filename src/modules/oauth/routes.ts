import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { DomainError } from '../../errors.js';
import { issueAccessToken, OAuthError } from './service.js';

const tokenRequest = z.object({
  grant_type: z.string().describe('client_credentials'),
  client_id: z.string().optional().describe('Cloud API key id (or send it as HTTP Basic)'),
  client_secret: z.string().optional().describe('Cloud API key secret'),
  scope: z.string().optional(),
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

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // RFC 6749 §2.3.1: client id and secret are form-urlencoded inside the Basic credential.
  return colon < 0 ? undefined : { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

export default async function oauthRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  app.withTypeProvider<ZodTypeProvider>().post('/oauth2/token', {
    config: { auth: 'public' },
    // Errors here follow RFC 6749 §5.2, not problem+json: OAuth clients parse `error`.
    attachValidation: true,
    schema: {
      operationId: 'issueAccessToken',
      tags: ['oauth'],
      summary: 'Exchange a cloud API key for a short-lived access token (client credentials)',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      body: tokenRequest,
      response: { 200: tokenResponse, 400: oauthError, 401: oauthError },
    },
  }, async (request, reply) => {
    const retryAfterSeconds = deps.authFailures.retryAfter(request.ip);
    if (retryAfterSeconds > 0) throw new DomainError('rate_limited', 'too many failed authentication attempts from this address', { retryAfterSeconds });
    try {
      if (request.validationError) throw new OAuthError('invalid_request', request.validationError.message);
      return await issueAccessToken(deps, request.body, basicCredentials(request.headers.authorization));
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.error === 'invalid_client') {
        deps.authFailures.recordFailure(request.ip);
        reply.header('www-authenticate', 'Basic realm="latchkey"');
      }
      return reply.code(error.error === 'invalid_client' ? 401 : 400).header('pragma', 'no-cache').send({ error: error.error, error_description: error.description });
    }
  });
}
