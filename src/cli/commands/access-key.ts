import { type Command, Option } from 'commander';
import { defined, integerIn, type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['name', 'protocol', 'topic', 'consume', 'produce', 'key_hint', 'key_filter_remote', 'last_used_at'] };
const PROTOCOLS = ['simple', 'fluvio'] as const;

function keyNotice(cli: Cli): void {
  if (cli.options.output === 'table') cli.message('Save the key now: Latchkey keeps only a hash of it and cannot show it again.');
}

/** --cluster on every access-key command: the fluvio_cluster the key belongs to. */
function withCluster(command: Command): Command {
  return command.requiredOption('--cluster <cluster_id>', 'the fluvio_cluster (fc-…)');
}

export function registerAccessKeyCommands(program: Command, cli: Cli): void {
  const accessKey = program.command('access-key').description('Fluvio access keys (the ?access_key= a WebSocket gateway checks)');

  withIdempotencyKey(
    withCluster(
      accessKey
        .command('create')
        .description('Create an access key; the key is printed once')
        .argument('<name>', 'unique per cluster: [a-z0-9][a-z0-9._-]{0,62}'),
    )
      .option('--topic <topic>', 'the one topic a simple key may use (required for simple keys)')
      .option('--consume', 'may consume (neither --consume nor --produce: both)')
      .option('--produce', 'may produce (neither --consume nor --produce: both)')
      .option('--key-filter-remote <param:url>', 'PARAM:https://… that computes the key filter of a consume')
      .addOption(new Option('--protocol <protocol>', 'simple (default): one topic; fluvio: the full protocol').choices(PROTOCOLS)),
  ).action(
    async (
      name: string,
      options: {
        cluster: string;
        topic?: string;
        consume?: boolean;
        produce?: boolean;
        keyFilterRemote?: string;
        protocol?: (typeof PROTOCOLS)[number];
        idempotencyKey?: string;
      },
    ) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const text = await cli.call(
        client.POST('/v1/orgs/{org_id}/resources/{cluster_id}/access-keys', {
          params: { path: { org_id: org, cluster_id: options.cluster } },
          body: defined({
            name,
            protocol: options.protocol,
            topic: options.topic,
            consume: options.consume,
            produce: options.produce,
            key_filter_remote: options.keyFilterRemote,
          }),
          headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
          parseAs: 'text',
        }),
      );
      cli.print(text);
      keyNotice(cli);
    },
  );

  withPaging(withCluster(accessKey.command('list').description('List the access keys of a cluster (never the keys themselves)'))).action(
    async (options: PageOptions & { cluster: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const path = { org_id: org, cluster_id: options.cluster };
      cli.print(
        await cli.call(client.GET('/v1/orgs/{org_id}/resources/{cluster_id}/access-keys', { params: { path, query: pageQuery(options) }, parseAs: 'text' })),
        view,
      );
    },
  );

  withCluster(accessKey.command('describe').description('Show an access key (never the key itself)').argument('<name>')).action(
    async (name: string, options: { cluster: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const path = { org_id: org, cluster_id: options.cluster, name };
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/resources/{cluster_id}/access-keys/{name}', { params: { path }, parseAs: 'text' })));
    },
  );

  withCluster(accessKey.command('delete').description('Delete an access key; it stops verifying at once (no prompt)').argument('<name>')).action(
    async (name: string, options: { cluster: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const path = { org_id: org, cluster_id: options.cluster, name };
      await cli.call(client.DELETE('/v1/orgs/{org_id}/resources/{cluster_id}/access-keys/{name}', { params: { path }, parseAs: 'text' }));
      cli.message(`Deleted access key ${name}.`);
    },
  );

  withCluster(accessKey.command('rotate').description('Issue a new key; the old one keeps verifying for the grace period').argument('<name>'))
    .option('--grace-period <seconds>', 'how long the old key keeps verifying (0-86400, default 0)', integerIn(0, 86_400))
    .action(async (name: string, options: { cluster: string; gracePeriod?: number }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const path = { org_id: org, cluster_id: options.cluster, name };
      const body = defined({ grace_period_seconds: options.gracePeriod });
      cli.print(await cli.call(client.POST('/v1/orgs/{org_id}/resources/{cluster_id}/access-keys/{name}/rotate', { params: { path }, body, parseAs: 'text' })));
      keyNotice(cli);
    });
}
