import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DomainError, type FieldError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the JSON parser when the body's text shows it holds nothing inputProblems could refuse. */
    bodyProvenClean: boolean;
  }
}

/** Deeper JSON than this is no request Latchkey understands; walking it must stay cheap. */
const MAX_INPUT_DEPTH = 32;
/** Longer URLs are answered 414 (Node's header limit answers 431 beyond ~16 KiB). */
const MAX_URL_LENGTH = 8192;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Why a string cannot be stored, or undefined when it can. */
function stringProblem(value: string): string | undefined {
  // Postgres text cannot hold NUL, and a lone surrogate would be stored as U+FFFD: both would
  // silently differ from what the caller sent, so they are refused before any work.
  if (value.includes('\u0000')) return 'must not contain NUL (\\u0000) characters';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

/** NUL or any surrogate: a string without one has nothing stringProblem could refuse. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for.
const SUSPECT = /[\u0000\uD800-\uDFFF]/;

/**
 * Whether a request part may hold a problem: a suspect string or field name, or nesting deeper
 * than MAX_INPUT_DEPTH. One pass without allocations, which is all a well-formed request costs;
 * the recursion stops at MAX_INPUT_DEPTH, so it cannot exhaust the stack.
 */
function maySuspect(value: unknown, depth: number): boolean {
  if (typeof value === 'string') return SUSPECT.test(value);
  if (value === null || typeof value !== 'object') return false;
  if (depth >= MAX_INPUT_DEPTH) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (maySuspect(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (SUSPECT.test(key) || maySuspect((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/**
 * Every string (keys included) in one request part that cannot be stored, with its path. The walk
 * is iterative and bounded by MAX_INPUT_DEPTH, so a deeply nested body cannot exhaust the stack.
 */
function inputProblems(value: unknown, root: string): FieldError[] {
  if (!maySuspect(value, 0)) return [];
  const problems: FieldError[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  const join = (base: string, key: string) => (base ? `${base}.${key}` : key);
  while (stack.length > 0 && problems.length < 20) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      const problem = stringProblem(item.value);
      if (problem) problems.push({ path: item.path || 'body', message: problem });
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= MAX_INPUT_DEPTH) {
      problems.push({ path: item.path || 'body', message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` });
      continue;
    }
    for (const [key, child] of Object.entries(item.value)) {
      const keyProblem = stringProblem(key);
      const path = join(item.path, keyProblem ? JSON.stringify(key) : key);
      if (keyProblem) problems.push({ path, message: `field name ${keyProblem}` });
      else stack.push({ value: child, path, depth: item.depth + 1 });
    }
  }
  return problems;
}

/**
 * Whether JSON text, decoded as strict UTF-8, provably parses to a body inputProblems would pass,
 * without walking the parsed value: a string can hold NUL or a surrogate code unit only through a
 * `\u` escape (JSON forbids raw control characters, and strict UTF-8 decodes to no lone
 * surrogates), and nesting can reach no deeper than the text has `{` and `[`. A few searches of
 * the text cost less than walking every string of the parsed body with a regular expression
 * (measured: bench/README.md, "Instructions per answer").
 */
function provenClean(text: string): boolean {
  if (text.includes('\\u')) return false;
  let brackets = 0;
  for (const bracket of ['{', '[']) {
    for (let at = text.indexOf(bracket); at >= 0; at = text.indexOf(bracket, at + 1)) {
      if (++brackets > MAX_INPUT_DEPTH) return false;
    }
  }
  return true;
}

/**
 * The query parser replaces what it cannot percent-decode (invalid UTF-8, lone surrogates) with
 * U+FFFD or keeps it verbatim; either way a filter would silently differ from what was sent.
 */
function queryEncodingProblems(query: string): FieldError[] {
  const problems: FieldError[] = [];
  for (const pair of query.split('&')) {
    if (!pair.includes('%')) continue;
    const [name = '', value = ''] = pair.split('=', 2);
    try {
      decodeURIComponent(name);
    } catch {
      problems.push({ path: 'query', message: 'holds a parameter name that is not percent-encoded UTF-8' });
      continue;
    }
    try {
      decodeURIComponent(value);
    } catch {
      problems.push({ path: decodeURIComponent(name.replace(/\+/g, ' ')), message: 'is not percent-encoded UTF-8' });
    }
  }
  return problems;
}

const REPLACEMENT = '\uFFFD';

/**
 * The body is not UTF-8. When it is JSON once decoded leniently, the fields where U+FFFD appeared
 * (and the sender wrote none) are the ones holding the bad bytes: name them (422); else 400.
 */
function invalidUtf8Problem(body: Buffer): DomainError {
  const detail = 'the body is not valid UTF-8; send JSON encoded as UTF-8';
  if (!body.includes(Buffer.from(REPLACEMENT))) {
    try {
      const fields: FieldError[] = [];
      const stack: Array<{ value: unknown; path: string }> = [{ value: JSON.parse(new TextDecoder().decode(body)), path: '' }];
      while (stack.length > 0 && fields.length < 20) {
        const { value, path } = stack.pop()!;
        if (typeof value === 'string' && value.includes(REPLACEMENT)) fields.push({ path: path || 'body', message: 'is not valid UTF-8' });
        if (value === null || typeof value !== 'object' || path.split('.').length > MAX_INPUT_DEPTH) continue;
        for (const [key, child] of Object.entries(value)) {
          const childPath = path ? `${path}.${key}` : key;
          if (key.includes(REPLACEMENT)) fields.push({ path: childPath, message: 'field name is not valid UTF-8' });
          else stack.push({ value: child, path: childPath });
        }
      }
      if (fields.length > 0) return new DomainError('validation_failed', `${detail}: ${fields.map((f) => f.path).join(', ')}`, { errors: fields });
    } catch {
      // not JSON either: the plain 400 below
    }
  }
  return new DomainError('malformed_json', detail);
}

function problemsError(problems: FieldError[], where: string): DomainError | undefined {
  if (problems.length === 0) return undefined;
  const summary = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return new DomainError('validation_failed', `invalid ${where}: ${summary}`, { errors: problems });
}

/**
 * Input hygiene shared by every route: JSON bodies are decoded as strict UTF-8, form and text
 * bodies are not parsed (415) except where a route scope registers a parser of its own, and every
 * string in the path, query and body is checked once, before the route's schema sees it.
 */
async function inputPlugin(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.decorateRequest('bodyProvenClean', false);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = strictUtf8.decode(body as Buffer);
    } catch {
      done(invalidUtf8Problem(body as Buffer), undefined);
      return;
    }
    request.bodyProvenClean = provenClean(text);
    parseJson(request, text, done);
  });

  // Callback-style hooks: no promise per request on the hot path.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url.length > MAX_URL_LENGTH) {
      done(new DomainError('uri_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters`));
      return;
    }
    const query = request.url.indexOf('?');
    done(query >= 0 ? problemsError(queryEncodingProblems(request.url.slice(query + 1)), 'query') : undefined);
  });

  app.addHook('preValidation', (request: FastifyRequest, _reply, done) => {
    done(
      problemsError(inputProblems(request.params, ''), 'path') ??
        problemsError(inputProblems(request.query, ''), 'query') ??
        (request.bodyProvenClean ? undefined : problemsError(inputProblems(request.body, ''), 'body')),
    );
  });
}

export default fp(inputPlugin, { name: 'input', fastify: '5.x', dependencies: ['errors'] });
