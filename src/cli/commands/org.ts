import type { Command } from 'commander';
import { defined, type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['id', 'name', 'display_name', 'created_at'] };

export function registerOrgCommands(program: Command, cli: Cli): void {
  const org = program.command('org').description('Organizations (tenants); creating one needs the root token');

  withIdempotencyKey(
    org
      .command('create')
      .description('Create an organization')
      .argument('<name>', 'unique slug, e.g. acme')
      .option('--display-name <text>', 'human-readable name'),
  ).action(async (name: string, options: { displayName?: string; idempotencyKey?: string }) => {
    const client = await cli.client();
    const text = await cli.call(
      client.POST('/v1/orgs', {
        body: defined({ name, display_name: options.displayName }),
        headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
        parseAs: 'text',
      }),
    );
    cli.print(text, view);
  });

  withPaging(org.command('list').description('List the organizations you can see')).action(async (options: PageOptions) => {
    const client = await cli.client();
    cli.print(await cli.call(client.GET('/v1/orgs', { params: { query: pageQuery(options) }, parseAs: 'text' })), view);
  });

  org
    .command('describe')
    .description('Show an organization')
    .argument('[org_id]', 'default: --org')
    .action(async (orgId: string | undefined) => {
      const client = await cli.client();
      const id = orgId ?? (await cli.org());
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}', { params: { path: { org_id: id } }, parseAs: 'text' })));
    });

  org
    .command('update')
    .description("Change an organization's display name")
    .argument('<org_id>')
    .requiredOption('--display-name <text>', 'new display name')
    .action(async (orgId: string, options: { displayName: string }) => {
      const client = await cli.client();
      cli.print(
        await cli.call(
          client.PATCH('/v1/orgs/{org_id}', { params: { path: { org_id: orgId } }, body: { display_name: options.displayName }, parseAs: 'text' }),
        ),
      );
    });

  org
    .command('delete')
    .description('Delete an organization and everything in it (no prompt)')
    .argument('<org_id>')
    .action(async (orgId: string) => {
      const client = await cli.client();
      await cli.call(client.DELETE('/v1/orgs/{org_id}', { params: { path: { org_id: orgId } }, parseAs: 'text' }));
      cli.message(`Deleted organization ${orgId}.`);
    });
}
