import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { operations } from '../../client/index.js';
import { UsageError } from '../errors.js';
import type { Cli } from '../runtime.js';

type BatchItems = operations['verifyBatch']['requestBody']['content']['application/json']['items'];

/**
 * `verify cluster-key --token JWT`: the program's own --token (the caller's credential) is
 * recognised anywhere on the command line, so main() hands a --token written after
 * `verify cluster-key` to this command as --cluster-key-token (see clusterKeyTokenArgs).
 */
const CLUSTER_KEY_TOKEN_FLAG = '--cluster-key-token';

/** The program's options that take a value (its first non-option word is the command). */
const GLOBAL_WITH_VALUE = new Set(['--url', '--token', '--org', '--profile', '-o', '--output']);

/** Renames a --token that follows the command words `verify cluster-key` to the command's own flag. */
export function clusterKeyTokenArgs(argv: string[]): string[] {
  let at = 0;
  while (at < argv.length && argv[at]!.startsWith('-')) at += GLOBAL_WITH_VALUE.has(argv[at]!) ? 2 : 1;
  if (argv[at] !== 'verify' || argv[at + 1] !== 'cluster-key') return argv;
  return argv.map((word, index) => {
    if (index <= at + 1) return word;
    if (word === '--token') return CLUSTER_KEY_TOKEN_FLAG;
    if (word.startsWith('--token=')) return `${CLUSTER_KEY_TOKEN_FLAG}=${word.slice('--token='.length)}`;
    return word;
  });
}

/** `--param NAME=VALUE`, repeatable: the other query parameters of the client's WebSocket URL. */
function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const equals = value.indexOf('=');
  const name = equals > 0 ? value.slice(0, equals) : '';
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new InvalidArgumentError('expected NAME=VALUE, NAME of 1-64 letters, digits and _');
  return { ...previous, [name]: value.slice(equals + 1) };
}

const OPERATIONS = ['consume', 'produce', 'fluvio'] as const;

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

  verify
    .command('cluster-key')
    .description('Verify a cluster key (the JWT a Pulsar broker receives) for a cluster')
    // Shown in the help; the value arrives as --cluster-key-token (see clusterKeyTokenArgs).
    .option(
      '--token <jwt>',
      "the cluster key; or set LATCHKEY_VERIFY_TOKEN, which keeps it out of the process list (the caller's own credential then comes from LATCHKEY_TOKEN or the profile)",
    )
    .addOption(new Option(`${CLUSTER_KEY_TOKEN_FLAG} <jwt>`).hideHelp())
    .requiredOption('--cluster <cluster_id>', 'the pulsar_cluster the caller guards (pc-…)')
    .action(async (options: { clusterKeyToken?: string; cluster: string }) => {
      const token = options.clusterKeyToken ?? cli.io.env.LATCHKEY_VERIFY_TOKEN;
      if (!token) throw new UsageError('give the cluster key: --token JWT or LATCHKEY_VERIFY_TOKEN');
      const client = await cli.client();
      cli.print(await cli.call(client.POST('/v1/verify/cluster-key', { body: { token, cluster_id: options.cluster }, parseAs: 'text' })));
    });

  verify
    .command('access-key')
    .description('Verify an access key for an operation on a fluvio cluster')
    .option('--key <access_key>', 'the ?access_key= value; or set LATCHKEY_VERIFY_KEY, which keeps it out of the process list')
    .requiredOption('--cluster <cluster_id>', 'the fluvio_cluster (fc-…)')
    .addOption(new Option('--operation <operation>', 'what the client asks for').choices(OPERATIONS).makeOptionMandatory())
    .option('--topic <topic>', 'the topic the client asks for (simple endpoints)')
    .option('--param <name=value>', "another query parameter of the client's WebSocket URL (repeatable)", collectParam)
    .action(async (options: { key?: string; cluster: string; operation: (typeof OPERATIONS)[number]; topic?: string; param?: Record<string, string> }) => {
      const key = options.key ?? cli.io.env.LATCHKEY_VERIFY_KEY;
      if (!key) throw new UsageError('give the access key: --key K or LATCHKEY_VERIFY_KEY');
      const client = await cli.client();
      const body = {
        access_key: key,
        cluster_id: options.cluster,
        operation: options.operation,
        ...(options.topic !== undefined ? { topic: options.topic } : {}),
        ...(options.param ? { params: options.param } : {}),
      };
      cli.print(await cli.call(client.POST('/v1/verify/access-key', { body, parseAs: 'text' })));
    });

  verify
    .command('batch')
    .description('Verify up to 100 credentials of any kind in one call; one result per item, in order')
    .requiredOption(
      '--file <path>',
      'a JSON array of items, each {"kind":"api_key"|"cluster_key"|"access_key", …the body of that verify route}, or {"items":[…]}; - reads standard input',
    )
    .action(async (options: { file: string }) => {
      const items = await readBatchItems(options.file);
      const client = await cli.client();
      cli.print(await cli.call(client.POST('/v1/verify/batch', { body: { items }, parseAs: 'text' })), { list: 'results' });
    });
}

/** The items of `verify batch --file`; the service checks each item (422 naming items.N.field). */
async function readBatchItems(file: string): Promise<BatchItems> {
  let content: string;
  try {
    content = file === '-' ? await text(process.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw new UsageError(`--file ${file} is not JSON`);
  }
  const items = Array.isArray(parsed) ? parsed : (parsed as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new UsageError(`--file ${file} must hold a JSON array of items, or {"items":[…]}`);
  return items as BatchItems;
}
