import { type Command, Option } from 'commander';
import type { operations } from '../../client/index.js';
import { UsageError } from '../errors.js';
import { defined, type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

type CreateRoleBinding = NonNullable<operations['createRoleBinding']['requestBody']>['content']['application/json'];
type Role = CreateRoleBinding['role'];
const ROLES: Role[] = [
  'OrganizationAdmin',
  'EnvironmentAdmin',
  'CloudClusterAdmin',
  'Operator',
  'ResourceOwner',
  'DeveloperManage',
  'DeveloperRead',
  'DeveloperWrite',
  'Verifier',
];
const view = { columns: ['id', 'principal', 'role', 'scope', 'created_at'] };

export function registerRoleBindingCommands(program: Command, cli: Cli): void {
  const roleBinding = program.command('role-binding').description('Roles of principals on the organization, an environment or a resource');

  withIdempotencyKey(
    roleBinding
      .command('create')
      .description('Bind a role; the scope is the organization unless --environment or --resource is given')
      .requiredOption('--principal <id>', 'service account (sa-) or user (u-)')
      .addOption(new Option('--role <role>').choices(ROLES).makeOptionMandatory())
      .option('--environment <env_id>', 'scope: this environment')
      .option('--resource <resource_id>', 'scope: this resource'),
  ).action(async (options: { principal: string; role: Role; environment?: string; resource?: string; idempotencyKey?: string }) => {
    if (options.environment && options.resource) throw new UsageError('give --environment or --resource, not both');
    const scope: CreateRoleBinding['scope'] = options.environment
      ? { type: 'environment', id: options.environment }
      : options.resource
        ? { type: 'resource', id: options.resource }
        : { type: 'organization' };
    const [client, org] = [await cli.client(), await cli.org()];
    const text = await cli.call(
      client.POST('/v1/orgs/{org_id}/role-bindings', {
        params: { path: { org_id: org } },
        body: { principal: options.principal, role: options.role, scope },
        headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
        parseAs: 'text',
      }),
    );
    cli.print(text, view);
  });

  withPaging(
    roleBinding
      .command('list')
      .description('List role bindings')
      .option('--principal <id>', 'only this principal')
      .addOption(new Option('--role <role>', 'only this role').choices(ROLES)),
  ).action(async (options: PageOptions & { principal?: string; role?: Role }) => {
    const [client, org] = [await cli.client(), await cli.org()];
    const query = { ...pageQuery(options), ...defined({ principal: options.principal, role: options.role }) };
    cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/role-bindings', { params: { path: { org_id: org }, query }, parseAs: 'text' })), view);
  });

  roleBinding
    .command('describe')
    .description('Show a role binding')
    .argument('<rb_id>')
    .action(async (rbId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/role-bindings/{rb_id}', { params: { path: { org_id: org, rb_id: rbId } }, parseAs: 'text' })));
    });

  roleBinding
    .command('delete')
    .description('Remove a role binding (no prompt)')
    .argument('<rb_id>')
    .action(async (rbId: string) => {
      const [client, org] = [await cli.client(), await cli.org()];
      await cli.call(client.DELETE('/v1/orgs/{org_id}/role-bindings/{rb_id}', { params: { path: { org_id: org, rb_id: rbId } }, parseAs: 'text' }));
      cli.message(`Deleted role binding ${rbId}.`);
    });
}
