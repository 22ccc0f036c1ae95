import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type PageOptions, pageQuery, withIdempotencyKey, withPaging } from '../options.js';
import type { Cli } from '../runtime.js';

const view = { columns: ['name', 'topics', 'serial', 'not_after', 'created_at'] };

/** Writes a file only its owner can read, also when it existed before with a wider mode. */
async function writePrivate(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

export function registerClientCommands(program: Command, cli: Cli): void {
  const client = program.command('client').description('kdb Insights clients: mutual-TLS certificates enrolled with a deployment');

  withIdempotencyKey(
    client
      .command('enrol')
      .alias('enroll')
      .description('Enrol a client with a deployment; prints its client id (the only key to its details)')
      .argument('<name>', 'unique per deployment; becomes the certificate subject CN')
      .requiredOption('--deployment <resource_id>', 'the kdb_insights deployment (kxi-…)')
      .requiredOption('--insert-topic <topic>', "must equal the deployment's sequencer_topic")
      .requiredOption('--query-topic <topic>')
      .option('--csr <file>', 'a PEM PKCS#10 request: its key is certified, and no private key is generated or kept')
      .option('--force', 're-enrol an enrolled name (its old certificate is revoked, a new client id issued)'),
  ).action(
    async (name: string, options: { deployment: string; insertTopic: string; queryTopic: string; csr?: string; force?: boolean; idempotencyKey?: string }) => {
      let csr: string | undefined;
      if (options.csr !== undefined) {
        try {
          csr = await readFile(options.csr, 'utf8');
        } catch (error) {
          throw new UsageError(`--csr ${options.csr}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
      }
      const api = await cli.client();
      const text = await cli.call(
        api.POST('/clientcontroller/enrol', {
          params: { query: { resource_id: options.deployment, ...(options.force ? { force: 'true' as const } : {}) } },
          body: { name, topics: { insert: options.insertTopic, query: options.queryTopic }, ...(csr !== undefined ? { csr } : {}) },
          headers: { 'idempotency-key': cli.idempotencyKey(options.idempotencyKey) },
          parseAs: 'text',
        }),
      );
      cli.print(text);
      if (cli.options.output === 'table')
        cli.message('The client id (url) is the only key to the certificate: latchkey client details CLIENT_ID --write-dir DIR');
    },
  );

  withPaging(
    client.command('list').description('List the clients of a deployment').requiredOption('--deployment <resource_id>', 'the kdb_insights deployment (kxi-…)'),
  ).action(async (options: PageOptions & { deployment: string }) => {
    const [api, org] = [await cli.client(), await cli.org()];
    const path = { org_id: org, resource_id: options.deployment };
    cli.print(
      await cli.call(api.GET('/v1/orgs/{org_id}/resources/{resource_id}/clients', { params: { path, query: pageQuery(options) }, parseAs: 'text' })),
      view,
    );
  });

  client
    .command('describe')
    .description('Show an enrolled client (never its key)')
    .argument('<name>')
    .requiredOption('--deployment <resource_id>', 'the kdb_insights deployment (kxi-…)')
    .action(async (name: string, options: { deployment: string }) => {
      const [api, org] = [await cli.client(), await cli.org()];
      const path = { org_id: org, resource_id: options.deployment, name };
      cli.print(await cli.call(api.GET('/v1/orgs/{org_id}/resources/{resource_id}/clients/{name}', { params: { path }, parseAs: 'text' })));
    });

  client
    .command('leave')
    .description('Remove a client; its certificate is revoked and its details stop answering (no prompt)')
    .argument('<name>')
    .requiredOption('--deployment <resource_id>', 'the kdb_insights deployment (kxi-…)')
    .action(async (name: string, options: { deployment: string }) => {
      const [api, org] = [await cli.client(), await cli.org()];
      const path = { org_id: org, resource_id: options.deployment, name };
      await cli.call(api.DELETE('/v1/orgs/{org_id}/resources/{resource_id}/clients/{name}', { params: { path }, parseAs: 'text' }));
      cli.message(`Client ${name} left ${options.deployment}.`);
    });

  client
    .command('details')
    .description("Fetch an enrolled client's CA, certificate, key and endpoints by its client id (no credential needed)")
    .argument('<client_id>')
    .option('--write-dir <dir>', 'write ca.pem, cert.pem and key.pem (mode 0600) there instead of printing them')
    .action(async (clientId: string, options: { writeDir?: string }) => {
      const api = await cli.client();
      const text = await cli.call(api.GET('/informationservice/details/{client_id}', { params: { path: { client_id: clientId } }, parseAs: 'text' }));
      if (options.writeDir === undefined) {
        cli.print(text);
        return;
      }
      const details = JSON.parse(text ?? '{}') as { ca?: string; cert?: string; key?: string | null };
      const dir = resolve(options.writeDir);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const files: [string, string | null | undefined][] = [
        ['ca.pem', details.ca],
        ['cert.pem', details.cert],
        ['key.pem', details.key],
      ];
      for (const [file, pem] of files) {
        if (typeof pem !== 'string') continue; // key is null when the client enrolled with its own CSR
        await writePrivate(join(dir, file), pem);
        cli.message(`Wrote ${join(dir, file)}`);
      }
    });
}
