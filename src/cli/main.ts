/**
 * `latchkey`, the command-line client (API.md "CLI"). Exit codes: 0 success, 1 the API answered an
 * error, 2 usage error, 3 the service cannot be reached. Nothing prompts. bin/latchkey.js runs
 * main() with the process's arguments, output streams and environment: config.ts stays the one
 * module that reads the environment, and the CLI takes it as an argument (tests pass their own).
 */
import { Command, CommanderError, Option } from 'commander';
import { commandGroups } from './commands/index.js';
import { clusterKeyTokenArgs } from './commands/verify.js';
import { ApiError, CliError, EXIT } from './errors.js';
import { OUTPUT_FORMATS } from './output.js';
import { Cli, type CliIo, DEFAULT_URL } from './runtime.js';

export const VERSION = '0.1.0';

export function buildProgram(io: CliIo): { program: Command; cli: Cli } {
  const program = new Command('latchkey');
  const cli = new Cli(program, io);
  program
    .description('Issue, rotate, revoke and verify Latchkey credentials')
    .version(VERSION)
    .option('--url <url>', `service URL (env LATCHKEY_URL; default ${DEFAULT_URL})`)
    .option('--token <token>', 'root token, access token, or KEY:SECRET of a cloud API key (env LATCHKEY_TOKEN)')
    .option('--org <org_id>', 'organization to act in (env LATCHKEY_ORG)')
    .option('--profile <name>', 'saved profile to use (env LATCHKEY_PROFILE; default: the last one logged in)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  for (const register of commandGroups) register(program, cli);
  return { program, cli };
}

/** Runs one invocation and answers its exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const { program, cli } = buildProgram(io);
  try {
    await program.parseAsync(clusterKeyTokenArgs(argv), { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof ApiError) {
      cli.message(`Error: ${error.message}`);
      for (const line of error.fieldErrors()) cli.message(`  ${line}`);
      cli.message(`HTTP ${error.status}${error.requestId ? `, request_id ${error.requestId}` : ''}`);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      cli.message(`Error: ${error.message}`);
      return error.exitCode;
    }
    cli.message(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.apiError;
  }
}
