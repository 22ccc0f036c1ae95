import type { Command } from 'commander';
import { type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['id', 'display_name', 'created_at'] };

export function registerEnvironmentCommands(program: Command, cli: Cli): void {
  const environment = program.command('environment').alias('env').description('Environments of the organization');

  withIdempotencyKey(environment.command('create').description('Create an environment').argument('<name>', 'display name, unique in the organization')).action(
    async (name: string, options: { idempotencyKey?: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const text = await cli.call(
        client.POST('/v1/orgs/{org_id}/environments', {
          params: { path: { org_id: org } },
          body: { display_name: name },
          headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
          parseAs: 'text',
        }),
      );
      cli.print(text, view);
    },
  );

  withPaging(environment.command('list').description('List environments')).action(async (options: PageOptions) => {
    const [client, org] = [await cli.client(), await cli.org()];
    cli.print(
      await cli.call(client.GET('/v1/orgs/{org_id}/environments', { params: { path: { org_id: org }, query: pageQuery(options) }, parseAs: 'text' })),
      view,
    );
  });

  environment
    .command('describe')
    .description('Show an environment')
    .argument('<env_id>')
    .action(async (envId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/environments/{env_id}', { params: { path: { org_id: org, env_id: envId } }, parseAs: 'text' })));
    });

  environment
    .command('update')
    .description('Rename an environment')
    .argument('<env_id>')
    .requiredOption('--display-name <text>', 'new name')
    .action(async (envId: string, options: { displayName: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(
        await cli.call(
          client.PATCH('/v1/orgs/{org_id}/environments/{env_id}', {
            params: { path: { org_id: org, env_id: envId } },
            body: { display_name: options.displayName },
            parseAs: 'text',
          }),
        ),
      );
    });

  environment
    .command('delete')
    .description('Delete an empty environment (no prompt)')
    .argument('<env_id>')
    .action(async (envId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      await cli.call(client.DELETE('/v1/orgs/{org_id}/environments/{env_id}', { params: { path: { org_id: org, env_id: envId } }, parseAs: 'text' }));
      cli.message(`Deleted environment ${envId}.`);
    });
}
