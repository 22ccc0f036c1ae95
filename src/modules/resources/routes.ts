import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.js';

export default async function routes(_app: FastifyInstance, _options: { deps: Deps }) {}
