import type { Command } from 'commander';
import type { components } from '../../client/index.js';
import { UsageError } from '../errors.js';
import { defined, integerIn, type PageOptions, pageQuery, timestamp, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['id', 'type', 'owner.id', 'scope', 'display_name', 'status', 'expires_at', 'last_used_at'] };
const FLINK_SCOPE = /^(env-[a-z0-9]+)\.([a-z][a-z0-9-]*)\.([a-z0-9][a-z0-9-]*)$/;

/** `--resource` as Confluent's CLI takes it: a resource id, `cloud`, or `env-xxx.<cloud>.<region>` (Flink). */
function scopeOf(resource: string): components['schemas']['ApiKeyScopeInput'] {
  if (resource === 'cloud') return { type: 'cloud' };
  const flink = FLINK_SCOPE.exec(resource);
  if (flink) return { type: 'flink', environment_id: flink[1]!, cloud: flink[2]!, region: flink[3]! };
  return { type: 'resource', resource_id: resource };
}

function secretNotice(cli: Cli): void {
  if (cli.options.output === 'table') cli.message('Save the secret now: Latchkey keeps only a hash of it and cannot show it again.');
}

export function registerApiKeyCommands(program: Command, cli: Cli): void {
  const apiKey = program.command('api-key').description('Resource, cloud and Flink API keys (Confluent-style KEY:SECRET pairs)');

  withIdempotencyKey(
    apiKey
      .command('create')
      .description('Create an API key; its secret is printed once')
      .requiredOption('--resource <id>', 'what the key is for: a resource id (lkc-, lsrc-, lksqlc-), cloud, or env-xxx.<cloud>.<region> for Flink')
      .option('--service-account <sa_id>', 'owner: a service account')
      .option('--user <user_id>', 'owner: a user (instead of --service-account)')
      .option('--display-name <text>')
      .option('--description <text>')
      .option('--expires-at <time>', 'RFC 3339 time; default: never expires', timestamp),
  ).action(
    async (options: {
      resource: string;
      serviceAccount?: string;
      user?: string;
      displayName?: string;
      description?: string;
      expiresAt?: string;
      idempotencyKey?: string;
    }) => {
      if (!options.serviceAccount === !options.user) throw new UsageError('give the owner: --service-account SA or --user U (one of them)');
      const [client, org] = [await cli.client(), await cli.org()];
      const text = await cli.call(
        client.POST('/v1/orgs/{org_id}/api-keys', {
          params: { path: { org_id: org } },
          body: defined({
            owner: (options.serviceAccount ?? options.user)!,
            scope: scopeOf(options.resource),
            display_name: options.displayName,
            description: options.description,
            expires_at: options.expiresAt,
          }),
          headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
          parseAs: 'text',
        }),
      );
      cli.print(text);
      secretNotice(cli);
    },
  );

  withPaging(
    apiKey
      .command('list')
      .description('List API keys (never their secrets)')
      .option('--resource <id>', 'only keys for this resource')
      .option('--service-account <sa_id>', 'only keys of this owner'),
  ).action(async (options: PageOptions & { resource?: string; serviceAccount?: string }) => {
    const [client, org] = [await cli.client(), await cli.org()];
    const query = { ...pageQuery(options), ...defined({ resource_id: options.resource, owner: options.serviceAccount }) };
    cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/api-keys', { params: { path: { org_id: org }, query }, parseAs: 'text' })), view);
  });

  apiKey
    .command('describe')
    .description('Show an API key (never its secret)')
    .argument('<key_id>')
    .action(async (keyId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/api-keys/{key_id}', { params: { path: { org_id: org, key_id: keyId } }, parseAs: 'text' })));
    });

  apiKey
    .command('update')
    .description("Change an API key's display name or description")
    .argument('<key_id>')
    .option('--display-name <text>')
    .option('--description <text>')
    .action(async (keyId: string, options: { displayName?: string; description?: string }) => {
      if (options.displayName === undefined && options.description === undefined)
        throw new UsageError('nothing to change: give --description or --display-name');
      const [client, org] = [await cli.client(), await cli.org()];
      const body = defined({ display_name: options.displayName, description: options.description });
      cli.print(
        await cli.call(client.PATCH('/v1/orgs/{org_id}/api-keys/{key_id}', { params: { path: { org_id: org, key_id: keyId } }, body, parseAs: 'text' })),
      );
    });

  apiKey
    .command('delete')
    .description('Revoke an API key at once, on every replica (no prompt)')
    .argument('<key_id>')
    .action(async (keyId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      await cli.call(client.DELETE('/v1/orgs/{org_id}/api-keys/{key_id}', { params: { path: { org_id: org, key_id: keyId } }, parseAs: 'text' }));
      cli.message(`Deleted API key ${keyId}.`);
    });

  apiKey
    .command('rotate')
    .description('Issue a new secret; the old one keeps verifying for the grace period')
    .argument('<key_id>')
    .option('--grace-period <seconds>', 'how long the old secret keeps verifying (0-86400, default 0)', integerIn(0, 86_400))
    .action(async (keyId: string, options: { gracePeriod?: number }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const body = defined({ grace_period_seconds: options.gracePeriod });
      cli.print(
        await cli.call(client.POST('/v1/orgs/{org_id}/api-keys/{key_id}/rotate', { params: { path: { org_id: org, key_id: keyId } }, body, parseAs: 'text' })),
      );
      secretNotice(cli);
    });
}
