import type { Command } from 'commander';
import { createLatchkeyClient, type LatchkeyClient, newIdempotencyKey } from '../client/index.js';
import { ApiError, UnreachableError, UsageError } from './errors.js';
import { type OutputFormat, render, type View } from './output.js';
import { configFilePath, type Profile, readConfigFile } from './profile.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const NO_ORG = 'no organization given: pass --org ORG_ID, set LATCHKEY_ORG, or save one with latchkey login --org';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface GlobalOptions {
  url?: string;
  token?: string;
  org?: string;
  profile?: string;
  output: OutputFormat;
}

/** What openapi-fetch resolves to; `data` is the body's text (parseAs: 'text'). */
interface FetchResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

export interface Connection {
  url: string;
  token?: string;
  org?: string;
}

/**
 * What every command uses: the connection (flags, then environment, then the saved profile), the
 * generated client, and output. Commands never build HTTP requests themselves.
 */
export class Cli {
  private connectionPromise?: Promise<Connection>;
  private clientInstance?: LatchkeyClient;

  constructor(
    readonly program: Command,
    readonly io: CliIo,
  ) {}

  get options(): GlobalOptions {
    return this.program.opts<GlobalOptions>();
  }

  get profileName(): string {
    return this.options.profile || this.io.env.LATCHKEY_PROFILE || '';
  }

  /** The saved profile named by --profile / LATCHKEY_PROFILE, else the file's current one. */
  async savedProfile(): Promise<Profile> {
    const file = await readConfigFile(configFilePath(this.io.env));
    if (!file) {
      if (this.profileName) throw new UsageError(`no profile file at ${configFilePath(this.io.env)}; run latchkey login --profile ${this.profileName} first`);
      return {};
    }
    const name = this.profileName || file.current_profile || 'default';
    const profile = file.profiles[name];
    if (!profile && this.profileName) throw new UsageError(`no profile named ${name} in ${configFilePath(this.io.env)}`);
    return profile ?? {};
  }

  /** Fixes the connection instead of resolving it (login checks exactly what it will save). */
  useConnection(connection: Connection): void {
    this.connectionPromise = Promise.resolve(connection);
  }

  connection(): Promise<Connection> {
    this.connectionPromise ??= (async () => {
      const { env } = this.io;
      const options = this.options;
      const flagsAndEnv = { url: options.url || env.LATCHKEY_URL, token: options.token || env.LATCHKEY_TOKEN, org: options.org || env.LATCHKEY_ORG };
      // A profile is read only when something is missing, so a CI job that passes everything never
      // trips over a developer's profile file.
      const profile = flagsAndEnv.url && flagsAndEnv.token && flagsAndEnv.org ? {} : await this.savedProfile();
      const url = flagsAndEnv.url || profile.url || DEFAULT_URL;
      try {
        const parsed = new URL(url);
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
      } catch {
        throw new UsageError(`--url ${url} is not an http:// or https:// URL`);
      }
      const token = flagsAndEnv.token || profile.token;
      const org = flagsAndEnv.org || profile.org;
      return { url, ...(token ? { token } : {}), ...(org ? { org } : {}) };
    })();
    return this.connectionPromise;
  }

  async client(): Promise<LatchkeyClient> {
    if (!this.clientInstance) {
      const { url, token } = await this.connection();
      this.clientInstance = createLatchkeyClient({ url, ...(token ? { token } : {}) });
    }
    return this.clientInstance;
  }

  /**
   * The organization the command acts in: --org / LATCHKEY_ORG / the profile's. A cloud key or
   * access token sees only its own organization, so when none was given and exactly one is
   * visible, that one is used.
   */
  async org(): Promise<string> {
    const connection = await this.connection();
    if (connection.org) return connection.org;
    // The root token sees every organization: "the only one" would change meaning with the next.
    if (!connection.token || connection.token.startsWith('lkr_')) throw new UsageError(NO_ORG);
    const client = await this.client();
    const text = await this.call(client.GET('/v1/orgs', { params: { query: { page_size: 2 } }, parseAs: 'text' }));
    const orgs = (JSON.parse(text ?? '{}') as { data?: { id: string }[] }).data ?? [];
    if (orgs.length === 1) return orgs[0]!.id;
    throw new UsageError(NO_ORG);
  }

  /** The Idempotency-Key of a create: the caller's, or one per invocation (retries reuse it). */
  idempotencyKey(given: string | undefined): string {
    return given ?? newIdempotencyKey();
  }

  /** Awaits a generated-client call; an error answer or a lost connection becomes a CliError. */
  async call(request: Promise<FetchResult>): Promise<string | undefined> {
    let result: FetchResult;
    try {
      result = await request;
    } catch (error) {
      throw new UnreachableError((await this.connection()).url, error);
    }
    const { response } = result;
    if (!response.ok) {
      throw new ApiError(response.status, result.error, response.headers.get('x-request-id') ?? undefined);
    }
    return typeof result.data === 'string' && result.data.length > 0 ? result.data : undefined;
  }

  /** An answer to stdout in the chosen format. */
  print(text: string | undefined, view?: View): void {
    if (text === undefined) return;
    this.io.stdout(render(text, this.options.output, view));
  }

  /** Anything that is not the answer goes to stderr, so stdout stays parseable. */
  message(text: string): void {
    this.io.stderr(`${text}\n`);
  }
}
