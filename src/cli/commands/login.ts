import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { configFilePath, readConfigFile, writeConfigFile } from '../profile.js';
import type { Cli } from '../runtime.js';

/**
 * `latchkey login --url U --token T [--org O] [--profile P]`: checks the credential against the
 * service, then saves it as a profile (mode 0600) that later commands fall back on.
 */
export function registerLoginCommands(program: Command, cli: Cli): void {
  program
    .command('login')
    .description('Check a credential and save it, with the URL and organization, as a profile (mode 0600)')
    .addHelpText('after', '\nUses the global --url, --token, --org and --profile (default profile: "default").')
    .action(async () => {
      const { url, token, org } = cli.options;
      const env = cli.io.env;
      const chosen = { url: url || env.LATCHKEY_URL, token: token || env.LATCHKEY_TOKEN, org: org || env.LATCHKEY_ORG };
      if (!chosen.url || !chosen.token) throw new UsageError('login needs --url and --token (or LATCHKEY_URL and LATCHKEY_TOKEN)');
      const path = configFilePath(env);
      // Refuses an existing file others can read before anything is written next to it.
      const file = (await readConfigFile(path)) ?? { profiles: {} };

      // A profile that cannot authenticate is not saved: the next command would only fail later.
      cli.useConnection({ url: chosen.url, token: chosen.token });
      const client = await cli.client();
      await cli.call(client.GET('/v1/orgs', { params: { query: { page_size: 1 } }, parseAs: 'text' }));

      const name = cli.profileName || 'default';
      file.profiles[name] = { url: chosen.url, token: chosen.token, ...(chosen.org ? { org: chosen.org } : {}) };
      file.current_profile = name;
      await writeConfigFile(path, file);
      cli.message(`Saved profile ${name} in ${path}.`);
    });
}
