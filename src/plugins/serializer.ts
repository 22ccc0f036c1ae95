import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { z } from 'zod';

/** A handler answered with a body its response schema does not describe: a bug, answered 500. */
export class ResponseMismatchError extends Error {
  constructor(route: string, cause: unknown) {
    super(`the response of ${route} does not match its schema`, { cause });
    this.name = 'ResponseMismatchError';
  }
}

/**
 * Response bodies are written by fast-json-stringify, compiled once per route and status from the
 * JSON Schema of the route's zod response schema: the schema that types the handler and documents
 * the route stays the single source. The compiled writer emits only declared fields (nothing a
 * handler adds by mistake leaves the service) and refuses a body without a required field or
 * with no matching union branch.
 *
 * It replaced zod's encode-then-JSON.stringify, which cost about a fifth of a cached
 * verification's time (11,900 -> 14,300 req/s with the writer swapped, separate-process
 * autocannon at 50 connections); on a 100-item key page it is 76 µs instead of 179 µs.
 */
export const responseSerializerCompiler: FastifySerializerCompiler<z.ZodType> = ({ schema, method, url }) => {
  const write = writerFor(schema);
  const route = `${method} ${url}`;
  return (data: unknown) => {
    try {
      return write(data);
    } catch (error) {
      throw new ResponseMismatchError(route, error);
    }
  };
};

// Shared schemas (the problem schema is on every route) compile once.
const writers = new WeakMap<z.ZodType, (data: unknown) => string>();

function writerFor(schema: z.ZodType): (data: unknown) => string {
  let write = writers.get(schema);
  if (!write) {
    const jsonSchema = z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'any' });
    write = fastJson(jsonSchema as Parameters<typeof fastJson>[0]);
    writers.set(schema, write);
  }
  return write;
}
