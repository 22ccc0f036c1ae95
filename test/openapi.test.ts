import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import { CLIENT_TYPES_FILE, generateClientTypes, generateOpenApi, OPENAPI_FILE } from '../scripts/openapi.js';
import { suiteApp } from './helpers/app.js';
import { createCluster, createOrg, credentialFor } from './helpers/principals.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Operation {
  operationId?: string;
  requestBody?: { required?: boolean; content: Record<string, { example?: unknown }> };
  tags?: string[];
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface OpenApiDocument {
  tags?: { name: string }[];
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
}

function operations(document: OpenApiDocument): { where: string; operation: Operation }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ where: `${method.toUpperCase()} ${path}`, operation: item[method]! })),
  );
}

/** A short account of how two renderings differ, so a stale file says what changed. */
function describeDifference(committed: string, generated: string): string {
  let oldOps: string[] = [];
  try {
    oldOps = operations(JSON.parse(committed) as OpenApiDocument).map((o) => o.where);
  } catch {
    return 'the committed file is not valid JSON';
  }
  const newOps = operations(JSON.parse(generated) as OpenApiDocument).map((o) => o.where);
  const added = newOps.filter((op) => !oldOps.includes(op));
  const removed = oldOps.filter((op) => !newOps.includes(op));
  const lines = [...added.map((op) => `  + ${op}`), ...removed.map((op) => `  - ${op}`)];
  if (lines.length > 0) return `operations not in the committed file (+) or no longer served (-):\n${lines.join('\n')}`;
  const a = committed.split('\n');
  const b = generated.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `first difference at line ${at + 1}:\n  committed: ${a[at] ?? '(end of file)'}\n  generated: ${b[at] ?? '(end of file)'}`;
}

describe('OpenAPI document', () => {
  let generated: string;
  let document: OpenApiDocument;
  before(async () => {
    generated = await generateOpenApi();
    document = JSON.parse(generated) as OpenApiDocument;
  });

  test('the committed openapi/openapi.json is what the app generates', async () => {
    const committed = await readFile(OPENAPI_FILE, 'utf8').catch(() => '');
    assert.ok(
      committed === generated,
      `openapi/openapi.json is stale: run \`npm run openapi\` and commit the result.\n${describeDifference(committed, generated)}`,
    );
  });

  test('the committed client types (src/client/openapi.ts) are what openapi-typescript generates from it', async () => {
    const committed = await readFile(CLIENT_TYPES_FILE, 'utf8').catch(() => '');
    assert.ok(committed === (await generateClientTypes(generated)), 'src/client/openapi.ts is stale: run `npm run openapi` and commit the result.');
  });

  test('every operation has a unique operationId, declared tags and a problem response for client errors', () => {
    const declaredTags = new Set((document.tags ?? []).map((tag) => tag.name));
    const seen = new Map<string, string>();
    const problems: string[] = [];
    const all = operations(document);
    assert.ok(all.length > 0);
    for (const { where, operation } of all) {
      if (!operation.operationId) problems.push(`${where}: no operationId`);
      else if (seen.has(operation.operationId)) problems.push(`${where}: operationId ${operation.operationId} is also ${seen.get(operation.operationId)}'s`);
      else seen.set(operation.operationId, where);

      if (!operation.tags?.length) problems.push(`${where}: no tags`);
      for (const tag of operation.tags ?? []) if (!declaredTags.has(tag)) problems.push(`${where}: tag ${tag} is not declared in the document's tags`);

      const clientErrors = Object.entries(operation.responses ?? {}).filter(([status]) => /^4\d\d$/.test(status));
      // The Confluent-compatible routes answer errors in Confluent's shape, as API.md requires.
      // So do the kdb Insights-compatible routes, in Insights' shape.
      const errorSchema = where.includes(' /iam/v2/')
        ? '#/components/schemas/IamV2Failure'
        : / \/(clientcontroller|informationservice)\//.test(where)
          ? '#/components/schemas/InsightsFailure'
          : '#/components/schemas/Problem';
      const problemShaped = clientErrors.some(([, response]) => Object.values(response.content ?? {}).some((media) => media.schema?.$ref === errorSchema));
      if (!problemShaped) problems.push(`${where}: no 4xx response with the ${errorSchema.split('/').pop()} schema`);
    }
    assert.deepEqual(problems, []);
  });

  describe('served by the app', () => {
    const t = suiteApp();

    test('GET /openapi.json serves the same document, without credentials', async () => {
      const res = await t.inject({ method: 'GET', url: '/openapi.json' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(res.json(), document);
    });

    test('every request body has an example, and the service accepts each example as valid input', async () => {
      const orgId = await createOrg(t);
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const { environmentId, resourceId } = await createCluster(t, orgId);
      const pulsar = await createCluster(t, orgId, 'pulsar_cluster');
      // The examples name the README's ids; a valid request names objects that exist.
      const realIds = (example: unknown) =>
        JSON.parse(
          JSON.stringify(example)
            .replaceAll('env-wv4b9ny6c4', environmentId)
            .replaceAll('lkc-v3kb92fbb4', resourceId)
            .replaceAll('pc-7q2w9e4r1t', pulsar.resourceId)
            .replaceAll('sa-rsd4zqh9h2', admin.principalId),
        );
      const answers: string[] = [];
      for (const [path, item] of Object.entries(document.paths)) {
        for (const method of METHODS) {
          const operation = item[method];
          if (!operation?.requestBody) continue;
          const [contentType, media] = Object.entries(operation.requestBody.content).find(([type]) => type === 'application/json') ?? [];
          assert.ok(contentType && media?.example !== undefined, `${method.toUpperCase()} ${path}: no application/json example`);
          // Ids that do not exist: a valid body then meets 404/409, an invalid one 422 first.
          const url = path.replace('{org_id}', orgId).replace(/\{[a-z_]+\}/g, 'doesnotexist');
          // The Insights routes name their deployment in the query; root must name one (else 400).
          const query = path.startsWith('/clientcontroller/') ? '?resource_id=kxi-doesnotexist' : '';
          const headers = path.startsWith('/iam/v2/') ? { authorization: admin.authorization } : t.root;
          const res = await t.inject({ method: method.toUpperCase() as 'POST', url: url + query, headers, payload: realIds(media.example) });
          answers.push(`${res.statusCode} ${method.toUpperCase()} ${path}`);
          assert.ok(
            res.statusCode !== 400 && res.statusCode !== 422,
            `${method.toUpperCase()} ${path}: its example was answered ${res.statusCode} ${res.body}`,
          );
        }
      }
      assert.ok(
        answers.some((answer) => answer.startsWith('201 POST /v1/orgs/{org_id}/environments')),
        answers.join('\n'),
      );
    });

    test("rotate's body is optional, in the document and in the service", async () => {
      const rotate = document.paths['/v1/orgs/{org_id}/api-keys/{key_id}/rotate']!.post!;
      assert.equal(rotate.requestBody?.required, false);
      const orgId = await createOrg(t);
      const owner = (
        await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers: t.root, payload: { display_name: 'rotator' } })
      ).json();
      const key = (
        await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys`, headers: t.root, payload: { owner: owner.id, scope: { type: 'cloud' } } })
      ).json();
      const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root });
      assert.equal(res.statusCode, 200, res.body);
      assert.notEqual(res.json().secret, key.secret);
    });

    test('GET /docs serves Swagger UI and its assets', async () => {
      const page = await t.inject({ method: 'GET', url: '/docs' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.body, /swagger-ui/i);
      // Without this, a browser on http://<internal name>/docs fetches the assets over HTTPS: blank page.
      const csp = String(page.headers['content-security-policy']);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/);
      assert.match(csp, /script-src 'self'/);
      const bundle = await t.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
      assert.equal(bundle.statusCode, 200);
    });
  });
});
