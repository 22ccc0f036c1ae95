import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Cli } from '../runtime.js';

/**
 * What a data plane asks. The answer is printed as the API gives it and the exit code is 0 for
 * valid and invalid alike (the API answered 200); scripts test `-o json | jq -e .valid`.
 */
export function registerVerifyCommands(program: Command, cli: Cli): void {
  const verify = program.command('verify').description('Check a credential as a data plane would (root, or the Verifier role)');

  verify
    .command('api-key')
    .description('Verify an API key and secret for a resource')
    .requiredOption('--key <key_id>')
    .option('--secret <secret>', 'the secret; or set LATCHKEY_VERIFY_SECRET, which keeps it out of the process list')
    .requiredOption('--resource <id>', 'what the caller guards: a resource id, cloud, or env-xxx.<cloud>.<region>')
    .action(async (options: { key: string; secret?: string; resource: string }) => {
      const secret = options.secret ?? cli.io.env.LATCHKEY_VERIFY_SECRET;
      if (!secret) throw new UsageError('give the secret: --secret S or LATCHKEY_VERIFY_SECRET');
      const client = await cli.client();
      cli.print(await cli.call(client.POST('/v1/verify/api-key', { body: { key: options.key, secret, resource_id: options.resource }, parseAs: 'text' })));
    });
}
