import { type Command, Option } from 'commander';
import type { operations } from '../../client/index.js';
import { defined, type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

type ResourceKind = NonNullable<operations['createResource']['requestBody']>['content']['application/json']['kind'];
const KINDS: ResourceKind[] = ['kafka_cluster', 'schema_registry', 'ksqldb_cluster', 'pulsar_cluster', 'fluvio_cluster', 'kdb_insights'];
const view = { columns: ['id', 'kind', 'display_name', 'environment_id', 'cloud', 'region'] };

export function registerResourceCommands(program: Command, cli: Cli): void {
  const resource = program.command('resource').description('Clusters, schema registries and ksqlDB apps that keys are scoped to');

  withIdempotencyKey(
    resource
      .command('create')
      .description('Create a resource')
      .argument('<name>', 'display name')
      .addOption(new Option('--kind <kind>', 'what it is').choices(KINDS).makeOptionMandatory())
      .requiredOption('--environment <env_id>', 'environment it belongs to')
      .option('--cloud <cloud>', 'e.g. aws')
      .option('--region <region>', 'e.g. us-east-2'),
  ).action(async (name: string, options: { kind: ResourceKind; environment: string; cloud?: string; region?: string; idempotencyKey?: string }) => {
    const [client, org] = [await cli.client(), await cli.org()];
    const text = await cli.call(
      client.POST('/v1/orgs/{org_id}/resources', {
        params: { path: { org_id: org } },
        body: defined({ kind: options.kind, display_name: name, environment_id: options.environment, cloud: options.cloud, region: options.region }),
        headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
        parseAs: 'text',
      }),
    );
    cli.print(text, view);
  });

  withPaging(
    resource
      .command('list')
      .description('List resources')
      .addOption(new Option('--kind <kind>', 'only this kind').choices(KINDS))
      .option('--environment <env_id>', 'only this environment'),
  ).action(async (options: PageOptions & { kind?: ResourceKind; environment?: string }) => {
    const [client, org] = [await cli.client(), await cli.org()];
    const query = { ...pageQuery(options), ...defined({ kind: options.kind, environment_id: options.environment }) };
    cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/resources', { params: { path: { org_id: org }, query }, parseAs: 'text' })), view);
  });

  resource
    .command('describe')
    .description('Show a resource')
    .argument('<resource_id>')
    .action(async (resourceId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(
        await cli.call(
          client.GET('/v1/orgs/{org_id}/resources/{resource_id}', { params: { path: { org_id: org, resource_id: resourceId } }, parseAs: 'text' }),
        ),
      );
    });

  resource
    .command('update')
    .description("Change a resource's display name, cloud or region")
    .argument('<resource_id>')
    .option('--display-name <text>')
    .option('--cloud <cloud>')
    .option('--region <region>')
    .action(async (resourceId: string, options: { displayName?: string; cloud?: string; region?: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const body = defined({ display_name: options.displayName, cloud: options.cloud, region: options.region });
      cli.print(
        await cli.call(
          client.PATCH('/v1/orgs/{org_id}/resources/{resource_id}', { params: { path: { org_id: org, resource_id: resourceId } }, body, parseAs: 'text' }),
        ),
      );
    });

  resource
    .command('delete')
    .description('Delete a resource and its keys (no prompt)')
    .argument('<resource_id>')
    .action(async (resourceId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      await cli.call(
        client.DELETE('/v1/orgs/{org_id}/resources/{resource_id}', { params: { path: { org_id: org, resource_id: resourceId } }, parseAs: 'text' }),
      );
      cli.message(`Deleted resource ${resourceId}.`);
    });
}
