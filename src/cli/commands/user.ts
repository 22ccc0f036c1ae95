import type { Command } from 'commander';
import { defined, type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['id', 'email', 'full_name', 'created_at'] };

export function registerUserCommands(program: Command, cli: Cli): void {
  const user = program.command('user').description('Users of an organization (principals that own keys and hold role bindings)');

  withIdempotencyKey(user.command('create').description('Create a user').argument('<email>', 'unique in the organization').option('--full-name <text>')).action(
    async (email: string, options: { fullName?: string; idempotencyKey?: string }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const text = await cli.call(
        client.POST('/v1/orgs/{org_id}/users', {
          params: { path: { org_id: org } },
          body: defined({ email, full_name: options.fullName }),
          headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
          parseAs: 'text',
        }),
      );
      cli.print(text, view);
    },
  );

  withPaging(user.command('list').description('List users')).action(async (options: PageOptions) => {
    const [client, org] = [await cli.client(), await cli.org()];
    cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/users', { params: { path: { org_id: org }, query: pageQuery(options) }, parseAs: 'text' })), view);
  });

  user
    .command('describe')
    .description('Show a user')
    .argument('<user_id>')
    .action(async (userId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/users/{user_id}', { params: { path: { org_id: org, user_id: userId } }, parseAs: 'text' })));
    });

  user
    .command('delete')
    .description('Delete a user and their keys (no prompt)')
    .argument('<user_id>')
    .option('--force', 'delete even if their keys were used recently')
    .action(async (userId: string, options: { force?: boolean }) => {
      const [client, org] = [await cli.client(), await cli.org()];
      const query = options.force ? { force: 'true' as const } : {};
      await cli.call(client.DELETE('/v1/orgs/{org_id}/users/{user_id}', { params: { path: { org_id: org, user_id: userId }, query }, parseAs: 'text' }));
      cli.message(`Deleted user ${userId}.`);
    });
}
