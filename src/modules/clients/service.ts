import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Actor, RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { open, seal } from '../../crypto/envelope.js';
import { newId } from '../../crypto/tokens.js';
import {
  createCertificateAuthority,
  InvalidCsrError,
  issueLeafCertificate,
  loadAuthority,
  publicKeyOfCsr,
  type SigningAuthority,
  signCrl,
} from '../../crypto/x509.js';
import type { Deps } from '../../deps.js';
import { DomainError, invalidField } from '../../errors.js';
import type { ClientEnrollment, Resource } from '../../generated/prisma/client.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import { isUniqueViolation } from '../../store/errors.js';
import type { Db, Tx } from '../../store/index.js';
import { type Invalidate, runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { requireOrg } from '../orgs/service.js';
import { kdbSettingsOf } from '../resources/schemas.js';
import type { CachedClient } from './details-cache.js';

const DAY_MS = 86_400_000;
/** A CRL is valid for seven days and re-signed once less than a day of that is left (or at once on a revocation). */
const CRL_VALIDITY_MS = 7 * DAY_MS;
const CRL_RESIGN_MARGIN_MS = DAY_MS;
const CLIENT_ID_RE = /^[0-9a-f]{32}$/;

const caContext = (resourceId: string) => `ca:${resourceId}`;
const clientKeyContext = (lookupId: string) => `client-key:${lookupId}`;

// ---------------------------------------------------------------------------------------------
// Keys derived for client ids

const lookupKeys = new WeakMap<Buffer, Buffer>();

/**
 * The row of a client id: an HMAC under a key derived from the master key, so the database alone
 * does not reveal the id, yet every replica finds the row by index. The argon2id hash then proves it.
 */
export function lookupIdOf(masterKey: Buffer, clientId: string): string {
  let key = lookupKeys.get(masterKey);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'latchkey client lookup', 32));
    lookupKeys.set(masterKey, key);
  }
  return createHmac('sha256', key).update(clientId).digest('hex').slice(0, 40);
}

/** The key sealing a generated private key: derived from the client id alone, which Latchkey does not keep. */
function clientKeyOf(clientId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(clientId, 'hex'), Buffer.alloc(0), 'latchkey client private key', 32));
}

// ---------------------------------------------------------------------------------------------
// Certificate authorities

const authorities = new Map<string, Promise<SigningAuthority>>();
const MAX_AUTHORITIES = 1_000;

/** The CA's signing key, unsealed once per replica and kept in memory (non-extractable). */
function authorityFor(deps: Deps, ca: { resourceId: string; certificate: string; privateKeyEncrypted: string }): Promise<SigningAuthority> {
  let authority = authorities.get(ca.resourceId);
  if (!authority) {
    if (authorities.size >= MAX_AUTHORITIES) authorities.delete(authorities.keys().next().value!);
    authority = loadAuthority(ca.certificate, open(deps.masterKey, ca.privateKeyEncrypted, caContext(ca.resourceId)));
    authority.catch(() => authorities.delete(ca.resourceId));
    authorities.set(ca.resourceId, authority);
  }
  return authority;
}

export interface PreparedAuthority {
  certificate: string;
  privateKeyEncrypted: string;
  crl: string;
  crlNextUpdate: Date;
}

/**
 * A new CA for a deployment (`CN=<display name> Latchkey CA, O=<org name>`), its key sealed under
 * the master key, and its first, empty CRL. Made before the transaction that stores it: key
 * generation and signing need no lock.
 */
export async function prepareCertificateAuthority(deps: Deps, resourceId: string, displayName: string, orgName: string): Promise<PreparedAuthority> {
  const material = await createCertificateAuthority(`${displayName} Latchkey CA`, orgName);
  const authority = await loadAuthority(material.certificatePem, material.privateKeyPkcs8);
  const now = new Date();
  const crlNextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
  const crl = await signCrl(authority, { number: 1n, thisUpdate: now, nextUpdate: crlNextUpdate, revoked: [] });
  return {
    certificate: material.certificatePem,
    privateKeyEncrypted: seal(deps.masterKey, material.privateKeyPkcs8, caContext(resourceId)),
    crl,
    crlNextUpdate,
  };
}

export async function storeCertificateAuthority(tx: Tx, orgId: string, resourceId: string, prepared: PreparedAuthority): Promise<void> {
  await tx.certificateAuthority.create({ data: { resourceId, orgId, crlNumber: 1n, ...prepared } });
}

/** Locks the CA row (revocations of one deployment are serialized) and signs a CRL with the next number. */
async function resignCrl(deps: Deps, tx: Tx, resourceId: string): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ resource_id: string }>>`SELECT resource_id FROM certificate_authorities WHERE resource_id = ${resourceId} FOR UPDATE`;
  if (rows.length === 0) return;
  const ca = await tx.certificateAuthority.findUniqueOrThrow({ where: { resourceId } });
  const now = new Date();
  const revoked = await tx.revokedCertificate.findMany({ where: { resourceId, notAfter: { gt: now } }, orderBy: { revokedAt: 'asc' } });
  const number = ca.crlNumber + 1n;
  const crlNextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
  const crl = await signCrl(await authorityFor(deps, ca), { number, thisUpdate: now, nextUpdate: crlNextUpdate, revoked });
  await tx.certificateAuthority.update({ where: { resourceId }, data: { crl, crlNumber: number, crlNextUpdate } });
}

/** Puts an enrollment's certificate on the CRL (re-signed at once) and removes the enrollment. */
async function revokeEnrollment(deps: Deps, tx: Tx, invalidate: Invalidate, enrollment: ClientEnrollment): Promise<boolean> {
  const { count } = await tx.clientEnrollment.deleteMany({ where: { id: enrollment.id } });
  if (count === 0) return false;
  await tx.revokedCertificate.create({ data: { resourceId: enrollment.resourceId, serial: enrollment.serial, notAfter: enrollment.notAfter } });
  await resignCrl(deps, tx, enrollment.resourceId);
  invalidate('client', [enrollment.lookupId]);
  return true;
}

/** Every cached client of a deployment must go: its settings changed or it is being deleted. */
export async function invalidateDeploymentClients(tx: Tx, invalidate: Invalidate, resourceId: string): Promise<void> {
  const rows = await tx.clientEnrollment.findMany({ where: { resourceId }, select: { lookupId: true } });
  invalidate(
    'client',
    rows.map((row) => row.lookupId),
  );
}

// ---------------------------------------------------------------------------------------------
// Deployments

const notADeployment = (resourceId: string) => new DomainError('not_found', `kdb Insights deployment ${resourceId} does not exist`);

/**
 * The deployment a compatible call acts on: `?resource_id=`, else the caller's organization's only
 * kdb_insights resource. Another organization's deployment does not exist for the caller (404).
 */
export async function resolveDeployment(deps: Deps, actor: Actor, resourceId: string | undefined): Promise<Resource> {
  if (resourceId !== undefined) {
    const where =
      actor.kind === 'principal' ? { id: resourceId, orgId: actor.orgId, kind: 'kdb_insights' as const } : { id: resourceId, kind: 'kdb_insights' as const };
    const resource = await deps.db.resource.findFirst({ where });
    if (!resource) throw notADeployment(resourceId);
    return resource;
  }
  if (actor.kind === 'root') {
    throw new DomainError('bad_request', 'resource_id is required with the root token: pass ?resource_id=kxi-... to name the deployment');
  }
  const found = await deps.db.resource.findMany({ where: { orgId: actor.orgId, kind: 'kdb_insights' }, take: 2, orderBy: { createdAt: 'asc' } });
  if (found.length === 0) {
    throw new DomainError('bad_request', `resource_id is required: organization ${actor.orgId} has no kdb_insights deployment; create one first`);
  }
  if (found.length > 1) {
    throw new DomainError(
      'bad_request',
      `resource_id is required: organization ${actor.orgId} has several kdb_insights deployments; pass ?resource_id=kxi-...`,
    );
  }
  return found[0]!;
}

/** A deployment named in a native /v1 path: in that organization and of kind kdb_insights, else 404. */
async function requireDeployment(db: Db, orgId: string, resourceId: string): Promise<Resource> {
  await requireOrg(db, orgId);
  const resource = await db.resource.findFirst({ where: { id: resourceId, orgId, kind: 'kdb_insights' } });
  if (!resource) throw notADeployment(resourceId);
  return resource;
}

const deploymentTarget = (resource: Resource) => ({ orgId: resource.orgId, environmentId: resource.environmentId, resourceId: resource.id });

// ---------------------------------------------------------------------------------------------
// Enrol, leave

export interface EnrolInput {
  name: string;
  topics: { insert: string; query: string };
  csr?: string | undefined;
}

const auditTarget = (resourceId: string, name: string) => `${resourceId}/clients/${name}`;

/** Enrols a client; returns its client id, which only this answer ever shows. */
export async function enrolClient(deps: Deps, ctx: RequestContext, deployment: Resource, input: EnrolInput, force: boolean): Promise<string> {
  authorize(ctx.actor, 'client.manage', deploymentTarget(deployment));
  const settings = kdbSettingsOf(deployment.settings);
  if (input.topics.insert !== settings.sequencer_topic) {
    throw invalidField('topics.insert', `must be the deployment's sequencer topic "${settings.sequencer_topic}"`);
  }
  const alreadyEnrolled = () =>
    new DomainError('name_taken', `client ${input.name} is already enrolled in ${deployment.id}; leave it first or enrol with ?force=true`);
  if (
    !force &&
    (await deps.db.clientEnrollment.findUnique({ where: { resourceId_name: { resourceId: deployment.id, name: input.name } }, select: { id: true } }))
  ) {
    throw alreadyEnrolled();
  }
  const ca = await deps.db.certificateAuthority.findUnique({ where: { resourceId: deployment.id } });
  if (!ca) throw notADeployment(deployment.id);
  let publicKey: Awaited<ReturnType<typeof publicKeyOfCsr>> | undefined;
  if (input.csr !== undefined) {
    try {
      publicKey = await publicKeyOfCsr(input.csr);
    } catch (error) {
      if (error instanceof InvalidCsrError) throw invalidField('csr', error.message);
      throw error;
    }
  }
  const issued = await issueLeafCertificate(await authorityFor(deps, ca), {
    commonName: input.name,
    days: settings.certificate_days,
    usage: 'clientAuth',
    altNames: [{ type: 'url', value: `urn:latchkey:${deployment.orgId}:${deployment.id}:client:${input.name}` }],
    ...(publicKey ? { publicKey } : {}),
  });
  const clientId = randomBytes(16).toString('hex');
  const lookupId = lookupIdOf(deps.masterKey, clientId);
  const clientIdHash = await deps.hasher.hash(clientId);
  const privateKeyEncrypted = issued.privateKeyPem === null ? null : seal(clientKeyOf(clientId), issued.privateKeyPem, clientKeyContext(lookupId));

  try {
    await runMutation(deps.store, async (tx, invalidate) => {
      const existing = await tx.clientEnrollment.findUnique({ where: { resourceId_name: { resourceId: deployment.id, name: input.name } } });
      if (existing && !force) throw alreadyEnrolled();
      if (existing) await revokeEnrollment(deps, tx, invalidate, existing);
      await tx.clientEnrollment.create({
        data: {
          id: newId('ce'),
          orgId: deployment.orgId,
          resourceId: deployment.id,
          name: input.name,
          insertTopic: input.topics.insert,
          queryTopic: input.topics.query,
          lookupId,
          clientIdHash,
          certificate: issued.certificatePem,
          serial: issued.serial,
          notAfter: issued.notAfter,
          privateKeyEncrypted,
        },
      });
      await recordAudit(tx, ctx, {
        orgId: deployment.orgId,
        action: 'client.enrolled',
        target: auditTarget(deployment.id, input.name),
        details: {
          resource_id: deployment.id,
          name: input.name,
          serial: issued.serial,
          not_after: issued.notAfter.toISOString(),
          csr: input.csr !== undefined,
          ...(existing ? { replaced_serial: existing.serial } : {}),
        },
      });
    });
  } catch (error) {
    // Two enrolments of one name raced; the loser is told as if it had come second.
    if (isUniqueViolation(error)) throw alreadyEnrolled();
    throw error;
  }
  return clientId;
}

/** Removes a client: its certificate goes on the CRL, re-signed at once, and its details answer 404. */
export async function leaveClient(deps: Deps, ctx: RequestContext, deployment: Resource, name: string): Promise<void> {
  authorize(ctx.actor, 'client.manage', deploymentTarget(deployment));
  const missing = () => new DomainError('not_found', `client ${name} is not enrolled in ${deployment.id}`);
  await runMutation(deps.store, async (tx, invalidate) => {
    const enrollment = await tx.clientEnrollment.findUnique({ where: { resourceId_name: { resourceId: deployment.id, name } } });
    if (!enrollment || !(await revokeEnrollment(deps, tx, invalidate, enrollment))) throw missing();
    await recordAudit(tx, ctx, {
      orgId: deployment.orgId,
      action: 'client.left',
      target: auditTarget(deployment.id, name),
      details: { resource_id: deployment.id, name, serial: enrollment.serial },
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Details (the client id is the credential)

let dummyHash: Promise<string> | undefined;

export type ClientDetails = CachedClient & { privateKey: string | null };

/**
 * The details of a client id, or null (answered 404) for an unknown, malformed or wrong one. A
 * miss costs an argon2 run like a hit, so timing tells nothing beyond the index lookup; failures
 * count against the caller's address and, over the limit, are refused with 429.
 */
export async function clientDetails(deps: Deps, clientId: string, address: string): Promise<ClientDetails | null> {
  const retryAfterSeconds = deps.clientFailures.retryAfter(address);
  if (retryAfterSeconds > 0) {
    throw new DomainError('rate_limited', 'too many unknown client ids from this address', { retryAfterSeconds });
  }
  if (!CLIENT_ID_RE.test(clientId)) {
    deps.clientFailures.recordFailure(address);
    return null;
  }
  const lookupId = lookupIdOf(deps.masterKey, clientId);
  const cached = deps.clientDetails.get(lookupId);
  if (cached) return withPrivateKey(cached, clientId);

  const epoch = deps.clientDetails.epoch;
  const row = await deps.db.clientEnrollment.findUnique({
    where: { lookupId },
    include: { resource: { select: { settings: true, certificateAuthority: { select: { certificate: true } } } } },
  });
  dummyHash ??= deps.hasher.hash(randomBytes(16).toString('hex'));
  const check = await deps.hasher.verify(row?.clientIdHash ?? (await dummyHash), clientId);
  if (!row || !check.ok || !row.resource.certificateAuthority) {
    deps.clientFailures.recordFailure(address);
    return null;
  }
  const client: CachedClient = {
    lookupId,
    name: row.name,
    insertTopic: row.insertTopic,
    queryTopic: row.queryTopic,
    caCertificate: row.resource.certificateAuthority.certificate,
    certificate: row.certificate,
    privateKeyEncrypted: row.privateKeyEncrypted,
    endpoints: kdbSettingsOf(row.resource.settings).endpoints,
  };
  deps.clientDetails.set(client.lookupId, client, epoch);
  return withPrivateKey(client, clientId);
}

function withPrivateKey(client: CachedClient, clientId: string): ClientDetails {
  const privateKey =
    client.privateKeyEncrypted === null ? null : open(clientKeyOf(clientId), client.privateKeyEncrypted, clientKeyContext(client.lookupId)).toString('utf8');
  return { ...client, privateKey };
}

// ---------------------------------------------------------------------------------------------
// Native API

export async function listClients(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string, page: PageRequest) {
  const deployment = await requireDeployment(deps.db, orgId, resourceId);
  authorize(ctx.actor, 'client.read', deploymentTarget(deployment));
  return paginate(page, (args) => deps.db.clientEnrollment.findMany({ ...args, where: { AND: [{ orgId, resourceId }, args.where] } }));
}

export async function getClient(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string, name: string): Promise<ClientEnrollment> {
  const deployment = await requireDeployment(deps.db, orgId, resourceId);
  authorize(ctx.actor, 'client.read', deploymentTarget(deployment));
  const enrollment = await deps.db.clientEnrollment.findUnique({ where: { resourceId_name: { resourceId, name } } });
  if (!enrollment) throw new DomainError('not_found', `client ${name} is not enrolled in ${resourceId}`);
  return enrollment;
}

export async function deleteClient(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string, name: string): Promise<void> {
  await leaveClient(deps, ctx, await requireDeployment(deps.db, orgId, resourceId), name);
}

/** The CA certificate of a deployment (public: relying parties need it). */
export async function caCertificate(deps: Deps, orgId: string, resourceId: string): Promise<string> {
  const ca = await deps.db.certificateAuthority.findFirst({ where: { resourceId, orgId }, select: { certificate: true } });
  if (!ca) throw notADeployment(resourceId);
  return ca.certificate;
}

/** The current CRL and its number; re-signed first when it is within a day of its nextUpdate. */
export async function currentCrl(deps: Deps, orgId: string, resourceId: string): Promise<{ crl: string; number: bigint }> {
  const ca = await deps.db.certificateAuthority.findFirst({ where: { resourceId, orgId }, select: { crl: true, crlNumber: true, crlNextUpdate: true } });
  if (!ca) throw notADeployment(resourceId);
  if (ca.crlNextUpdate.getTime() - Date.now() > CRL_RESIGN_MARGIN_MS) return { crl: ca.crl, number: ca.crlNumber };
  return deps.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT resource_id FROM certificate_authorities WHERE resource_id = ${resourceId} FOR UPDATE`;
    const locked = await tx.certificateAuthority.findUniqueOrThrow({ where: { resourceId } });
    // Another request may have re-signed it while this one waited for the lock.
    if (locked.crlNextUpdate.getTime() - Date.now() <= CRL_RESIGN_MARGIN_MS) await resignCrl(deps, tx, resourceId);
    const fresh = await tx.certificateAuthority.findUniqueOrThrow({ where: { resourceId }, select: { crl: true, crlNumber: true } });
    return { crl: fresh.crl, number: fresh.crlNumber };
  });
}

export interface ServerCertificateInput {
  dns_names: string[];
  ip_addresses: string[];
  days?: number | undefined;
}

/** A serverAuth certificate and a fresh key for one of the deployment's own TLS servers; the key is not kept. */
export async function issueServerCertificate(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string, input: ServerCertificateInput) {
  const deployment = await requireDeployment(deps.db, orgId, resourceId);
  authorize(ctx.actor, 'server_certificate.issue', deploymentTarget(deployment));
  if (input.dns_names.length + input.ip_addresses.length === 0) {
    throw invalidField('dns_names', 'or ip_addresses must name at least one host');
  }
  const ca = await deps.db.certificateAuthority.findUnique({ where: { resourceId } });
  if (!ca) throw notADeployment(resourceId);
  const days = input.days ?? kdbSettingsOf(deployment.settings).certificate_days;
  const issued = await issueLeafCertificate(await authorityFor(deps, ca), {
    commonName: input.dns_names[0] ?? input.ip_addresses[0]!,
    days,
    usage: 'serverAuth',
    altNames: [...input.dns_names.map((value) => ({ type: 'dns' as const, value })), ...input.ip_addresses.map((value) => ({ type: 'ip' as const, value }))],
  });
  await deps.db.$transaction(async (tx) => {
    await recordAudit(tx, ctx, {
      orgId,
      action: 'server_certificate.issued',
      target: resourceId,
      details: { serial: issued.serial, dns_names: input.dns_names, ip_addresses: input.ip_addresses, not_after: issued.notAfter.toISOString() },
    });
  });
  return { cert: issued.certificatePem, key: issued.privateKeyPem!, ca: ca.certificate };
}
