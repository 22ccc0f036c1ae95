import type { Command } from 'commander';
import { defined, type PageOptions, pageQuery, timestamp, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['time', 'action', 'actor', 'target', 'request_id'] };

export function registerAuditCommands(program: Command, cli: Cli): void {
  const audit = program.command('audit').description("The organization's audit trail");

  withPaging(
    audit
      .command('list')
      .description('List audit events, oldest first')
      .option('--action <action>', 'e.g. api_key.create')
      .option('--actor <id>', 'principal id, or root')
      .option('--target <id>', 'id of the object acted on')
      .option('--since <time>', 'only events at or after this RFC 3339 time', timestamp),
  ).action(async (options: PageOptions & { action?: string; actor?: string; target?: string; since?: string }) => {
    const [client, org] = [await cli.client(), await cli.org()];
    const query = { ...pageQuery(options), ...defined({ action: options.action, actor: options.actor, target: options.target, since: options.since }) };
    cli.print(await cli.call(client.GET('/v1/orgs/{org_id}/audit-events', { params: { path: { org_id: org }, query }, parseAs: 'text' })), view);
  });
}
