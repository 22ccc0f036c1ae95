import { createHash, randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';

/** The answer may not be larger than this (bytes). */
const KEY_FILTER_MAX_BYTES = 4096;
export const KEY_FILTER_URL_MAX_LENGTH = 2048;

/**
 * Whether an address may be connected to: global unicast only. Everything ipaddr.js puts in a
 * special range is refused (loopback, RFC 1918, CGNAT, link-local with 169.254.169.254,
 * unique-local, multicast, unspecified, broadcast, documentation, 6to4, Teredo, NAT64, ...), and
 * IPv4-mapped or IPv4-compatible IPv6 addresses are judged by the IPv4 address they carry.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) {
      ip = v6.toIPv4Address();
    } else if (v6.parts.slice(0, 6).every((part) => part === 0)) {
      // ::a.b.c.d (IPv4-compatible, deprecated) and ::, ::1: never a legitimate remote.
      return false;
    }
  }
  return ip.range() === 'unicast';
}

export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

const systemLookup: LookupAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

class KeyFilterRefused extends Error {}

/** The parts of a remote filter URL the checks need; null when it is not one we would ever call. */
function parseFilterUrl(text: string): { url: URL; hostname: string; origin: string; literal: string | null } | null {
  if (text.length > KEY_FILTER_URL_MAX_LENGTH) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.hash !== '' || text.includes('#')) return null;
  // WHATWG URL parsing already turned 2130706433 and 0177.0.0.1 into 127.0.0.1; brackets go for IPv6.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { url, hostname, origin: `${url.hostname}:${url.port || '443'}`, literal: isIP(hostname) ? hostname : null };
}

/** RFC 6761: `localhost` and names under it are loopback whatever a resolver says. */
const isLocalhostName = (hostname: string) => hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === 'localhost.';

/** Whether the URL's host is refused without asking DNS: a non-public literal address, or localhost. */
function refusedOutright(parsed: { hostname: string; literal: string | null }): boolean {
  return parsed.literal ? !isPublicAddress(parsed.literal) : isLocalhostName(parsed.hostname);
}

/** `host:port` entries normalized the way parseFilterUrl names an origin (so `[0::1]:443` matches `[::1]`). */
export function normalizeAllowedHosts(entries: readonly string[]): Set<string> {
  const allowed = new Set<string>();
  for (const entry of entries) {
    const parsed = parseFilterUrl(`https://${entry}/`);
    if (parsed) allowed.add(parsed.origin);
  }
  return allowed;
}

/** Create-time check: why the URL can never be fetched, or null. DNS names are checked at each fetch. */
export function filterUrlProblem(text: string, allowed: ReadonlySet<string>): string | null {
  const parsed = parseFilterUrl(text);
  if (!parsed) return `must be an https:// URL of at most ${KEY_FILTER_URL_MAX_LENGTH} characters, without credentials or fragment`;
  if (refusedOutright(parsed) && !allowed.has(parsed.origin)) {
    return `${parsed.hostname} is a loopback, private, link-local or otherwise non-public address; add ${parsed.origin} to LATCHKEY_KEY_FILTER_ALLOWED_HOSTS to allow it`;
  }
  return null;
}

export type KeyFilterOutcome = { ok: true; filter: string } | { ok: false; reason: string };

export interface KeyFilterOptions {
  allowedHosts: readonly string[];
  timeoutMs: number;
  cacheSeconds: number;
  maxConcurrency: number;
  cacheSize?: number;
  logger: Logger;
  /**
   * Test seams, not reachable from configuration: a resolver (to map names without real DNS) and
   * the CA certificates to trust instead of the system's (for a self-signed test server).
   */
  lookup?: LookupAll;
  ca?: string[];
  /** Test seam: sees the addresses that passed the check right before the socket connects; throwing aborts. */
  beforeConnect?: (hostname: string, addresses: LookupAddress[]) => void;
}

/**
 * Fetches remote key filters without letting a URL reach a private address. Every name is
 * resolved here, every resolved address is checked, and the socket connects only to what was
 * checked (undici's `connect.lookup`), so DNS rebinding between a check and the connect is not
 * possible. Literal addresses skip DNS and are checked before the request. No redirects are
 * followed (no redirect interceptor: a 3xx is just a non-2xx). Everything fails closed.
 */
export class KeyFilterFetcher {
  readonly #strict: Agent;
  readonly #exempt: Agent;
  readonly #allowed: Set<string>;
  readonly #lookup: LookupAll;
  readonly #cache = new Map<string, { filter: string; until: number }>();
  readonly #pepper = randomBytes(32);
  #outstanding = 0;

  constructor(private readonly options: KeyFilterOptions) {
    this.#allowed = normalizeAllowedHosts(options.allowedHosts);
    this.#lookup = options.lookup ?? systemLookup;
    const agent = (check: boolean) =>
      new Agent({
        connect: {
          timeout: options.timeoutMs,
          lookup: this.#checkedLookup(check),
          ...(options.ca ? { ca: options.ca } : {}),
        },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        connections: options.maxConcurrency,
      });
    this.#strict = agent(true);
    // Only origins listed in LATCHKEY_KEY_FILTER_ALLOWED_HOSTS are ever sent here.
    this.#exempt = agent(false);
  }

  get outstanding(): number {
    return this.#outstanding;
  }

  /** The filter text for this key and parameter value, or why there is none. Never throws. */
  async fetch(keyId: string, remote: string, value: string): Promise<KeyFilterOutcome> {
    const cacheKey = this.options.cacheSeconds > 0 ? this.#cacheKey(keyId, remote, value) : undefined;
    if (cacheKey) {
      const hit = this.#cache.get(cacheKey);
      if (hit && hit.until > Date.now()) return { ok: true, filter: hit.filter };
      if (hit) this.#cache.delete(cacheKey);
    }
    // Fail closed rather than queue: a slow remote must not pile up sockets and memory.
    if (this.#outstanding >= this.options.maxConcurrency) return { ok: false, reason: 'too many remote key-filter calls outstanding' };
    this.#outstanding++;
    try {
      const outcome = await this.#fetchBounded(remote, value);
      if (outcome.ok && cacheKey) this.#remember(cacheKey, outcome.filter);
      if (!outcome.ok) this.options.logger.debug({ reason: outcome.reason }, 'remote key filter unavailable');
      return outcome;
    } finally {
      this.#outstanding--;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#strict.close(), this.#exempt.close()]);
  }

  async #fetchBounded(remote: string, value: string): Promise<KeyFilterOutcome> {
    const parsed = parseFilterUrl(remote);
    if (!parsed) return { ok: false, reason: 'not an acceptable URL' };
    const exempt = this.#allowed.has(parsed.origin);
    if (!exempt && refusedOutright(parsed)) return { ok: false, reason: 'refused address' };

    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<KeyFilterOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ ok: false, reason: 'timed out' });
      }, this.options.timeoutMs);
    });
    try {
      return await Promise.race([this.#call(parsed.url, value, exempt ? this.#exempt : this.#strict, controller.signal), deadline]);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  async #call(url: URL, value: string, dispatcher: Agent, signal: AbortSignal): Promise<KeyFilterOutcome> {
    try {
      const response = await request(url, {
        method: 'POST',
        body: value,
        headers: { 'content-type': 'text/plain; charset=utf-8', accept: 'text/plain' },
        dispatcher,
        signal,
      });
      if (response.statusCode < 200 || response.statusCode > 299) {
        response.body.destroy();
        return { ok: false, reason: `status ${response.statusCode}` };
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > KEY_FILTER_MAX_BYTES) {
        response.body.destroy();
        return { ok: false, reason: 'answer too large' };
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > KEY_FILTER_MAX_BYTES) {
          response.body.destroy();
          return { ok: false, reason: 'answer too large' };
        }
        chunks.push(chunk);
      }
      try {
        return { ok: true, filter: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)) };
      } catch {
        return { ok: false, reason: 'answer is not UTF-8' };
      }
    } catch (error) {
      return { ok: false, reason: error instanceof KeyFilterRefused ? 'refused address' : `request failed (${(error as { code?: string }).code ?? 'error'})` };
    }
  }

  /** A `lookup` for net/tls.connect that resolves every address and, when checking, refuses if any is not public. */
  #checkedLookup(check: boolean) {
    return (
      hostname: string,
      options: { all?: boolean; family?: number | string },
      callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
    ): void => {
      this.#lookup(hostname)
        .then((addresses) => {
          if (addresses.length === 0) throw new KeyFilterRefused(`${hostname} has no address`);
          // One refused address refuses the name: the resolver could hand out any of them.
          if (check && !addresses.every((a) => isPublicAddress(a.address))) throw new KeyFilterRefused(`${hostname} resolves to a refused address`);
          const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
          const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
          if (usable.length === 0) throw new KeyFilterRefused(`${hostname} has no IPv${family} address`);
          this.options.beforeConnect?.(hostname, usable);
          if (options.all) callback(null, usable);
          else callback(null, usable[0]!.address, usable[0]!.family);
        })
        .catch((error: Error) => callback(error, options.all ? [] : ''));
    };
  }

  #cacheKey(keyId: string, remote: string, value: string): string {
    return createHash('sha256').update(this.#pepper).update(keyId).update('\0').update(remote).update('\0').update(value).digest('base64url');
  }

  #remember(cacheKey: string, filter: string): void {
    const limit = this.options.cacheSize ?? 10_000;
    while (this.#cache.size >= limit) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(cacheKey, { filter, until: Date.now() + this.options.cacheSeconds * 1000 });
  }
}
