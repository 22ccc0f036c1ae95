import type { Command } from 'commander';
import { defined, type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['id', 'display_name', 'description', 'created_at'] };

export function registerServiceAccountCommands(program: Command, cli: Cli): void {
  const serviceAccount = program.command('service-account').alias('sa').description('Service accounts: the principals CI jobs and applications act as');

  withIdempotencyKey(
    serviceAccount
      .command('create')
      .description('Create a service account')
      .argument('<name>', 'display name, unique in the organization')
      .option('--description <text>'),
  ).action(async (name: string, options: { description?: string; idempotencyKey?: string }) => {
    const [client, org] = [await cli.client(), await cli.org()];
    const text = await cli.call(
      client.POST('/v1/orgs/{org_id}/service-accounts', {
        params: { path: { org_id: org } },
        body: defined({ display_name: name, description: options.description }),
        headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
        parseAs: 'text',
      }),
    );
    cli.print(text, view);
  });

  withPaging(serviceAccount.command('list').description('List service accounts')).action(async (options: PageOptions) => {
    const [client, org] = [await cli.client(), await cli.org()];
    cli.print(
      await cli.call(client.GET('/v1/orgs/{org_id}/service-accounts', { params: { path: { org_id: org }, query: pageQuery(options) }, parseAs: 'text' })),
      view,
    );
  });

  serviceAccount
    .command('describe')
    .description('Show a service account')
    .argument('<sa_id>')
    .action(async (saId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/service-accounts/{sa_id}', { params: { path: { org_id: org, sa_id: saId } }, parseAs: 'text' })));
    });

  serviceAccount
    .command('update')
    .description("Change a service account's display name or description")
    .argument('<sa_id>')
    .option('--display-name <text>')
    .option('--description <text>')
    .action(async (saId: string, options: { displayName?: string; description?: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const body = defined({ display_name: options.displayName, description: options.description });
      cli.print(
        await cli.call(client.PATCH('/v1/orgs/{org_id}/service-accounts/{sa_id}', { params: { path: { org_id: org, sa_id: saId } }, body, parseAs: 'text' })),
      );
    });

  serviceAccount
    .command('delete')
    .description('Delete a service account and its keys (no prompt)')
    .argument('<sa_id>')
    .option('--force', 'delete even if its keys were used recently')
    .action(async (saId: string, options: { force?: boolean }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const query = options.force ? { force: 'true' as const } : {};
      await cli.call(client.DELETE('/v1/orgs/{org_id}/service-accounts/{sa_id}', { params: { path: { org_id: org, sa_id: saId }, query }, parseAs: 'text' }));
      cli.message(`Deleted service account ${saId}.`);
    });
}
