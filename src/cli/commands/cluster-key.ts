import { type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { defined, type PageOptions, pageQuery, timestamp, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['id', 'name', 'owner', 'cluster_id', 'status', 'expires_at', 'last_used_at'] };
const STATUSES = ['active', 'revoked', 'expired'] as const;

function tokenNotice(cli: Cli): void {
  if (cli.options.output === 'table') cli.message('Save the token now: Latchkey does not keep it and cannot show it again.');
}

export function registerClusterKeyCommands(program: Command, cli: Cli): void {
  const clusterKey = program.command('cluster-key').description('Pulsar cluster keys (signed JWTs a broker checks with the JWKS)');

  withIdempotencyKey(
    clusterKey
      .command('create')
      .description('Create a cluster key; its token is printed once')
      .argument('<name>', "unique among the organization's cluster keys")
      .requiredOption('--service-account <sa_id>', "the service account the key acts as (the token's sub)")
      .requiredOption('--cluster <cluster_id>', 'the pulsar_cluster the key is for (pc-…)')
      .option('--description <text>')
      .option('--expires-at <time>', "RFC 3339 time; default: the service's default lifetime (30 days)", timestamp)
      .option('--no-expiry', 'the key never expires'),
  ).action(
    async (
      name: string,
      options: { serviceAccount: string; cluster: string; description?: string; expiresAt?: string; expiry: boolean; idempotencyKey?: string },
    ) => {
      if (options.expiresAt !== undefined && !options.expiry) throw new UsageError('give --expires-at T or --no-expiry, not both');
      const [client, org] = [await cli.client(), await cli.org()];
      const text = await cli.call(
        client.POST('/v1/orgs/{org_id}/cluster-keys', {
          params: { path: { org_id: org } },
          body: {
            ...defined({ name, owner: options.serviceAccount, cluster_id: options.cluster, description: options.description, expires_at: options.expiresAt }),
            ...(options.expiry ? {} : { expires_at: null }),
          },
          headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
          parseAs: 'text',
        }),
      );
      cli.print(text);
      tokenNotice(cli);
    },
  );

  withPaging(
    clusterKey
      .command('list')
      .description('List cluster keys (never their tokens)')
      .option('--service-account <sa_id>', 'only keys of this owner')
      .option('--cluster <cluster_id>', 'only keys for this cluster')
      .addOption(new Option('--status <status>', 'only keys in this state').choices(STATUSES)),
  ).action(async (options: PageOptions & { serviceAccount?: string; cluster?: string; status?: (typeof STATUSES)[number] }) => {
    const [client, org] = [await cli.client(), await cli.org()];
    const query = { ...pageQuery(options), ...defined({ owner: options.serviceAccount, cluster_id: options.cluster, status: options.status }) };
    cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/cluster-keys', { params: { path: { org_id: org }, query }, parseAs: 'text' })), view);
  });

  clusterKey
    .command('describe')
    .description('Show a cluster key (never its token)')
    .argument('<key_id>')
    .action(async (keyId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/cluster-keys/{key_id}', { params: { path: { org_id: org, key_id: keyId } }, parseAs: 'text' })));
    });

  clusterKey
    .command('revoke')
    .description('Revoke a cluster key at once; it stays listed, and in the revocation list until it expires (no prompt)')
    .argument('<key_id>')
    .action(async (keyId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(
        await cli.call(client.POST('/v1/orgs/{org_id}/cluster-keys/{key_id}/revoke', { params: { path: { org_id: org, key_id: keyId } }, parseAs: 'text' })),
      );
      if (cli.options.output === 'table') cli.message(`Revoked cluster key ${keyId}.`);
    });

  clusterKey
    .command('delete')
    .description('Revoke a cluster key and remove it from listings (no prompt)')
    .argument('<key_id>')
    .action(async (keyId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      await cli.call(client.DELETE('/v1/orgs/{org_id}/cluster-keys/{key_id}', { params: { path: { org_id: org, key_id: keyId } }, parseAs: 'text' }));
      cli.message(`Deleted cluster key ${keyId}.`);
    });
}
