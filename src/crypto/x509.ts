import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { id_ce_cRLNumber } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 signs through WebCrypto; Node's implementation is the provider.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** WebCrypto key types as @peculiar/x509 declares them (the project compiles without the DOM library). */
type CryptoKey = Parameters<typeof x509.X509CrlGenerator.create>[0]['signingKey'];
type CryptoKeyPair = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];

const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
// Certificates start a little in the past: a relying party whose clock lags must not see them as not yet valid.
const BACKDATE_MS = 5 * 60_000;

export interface CertificateAuthorityMaterial {
  certificatePem: string;
  /** PKCS#8 DER of the CA's private key; the caller seals it before storing. */
  privateKeyPkcs8: Buffer;
}

export interface IssuedCertificate {
  certificatePem: string;
  /** Lowercase hex, as it appears in the certificate. */
  serial: string;
  notAfter: Date;
}

export interface SigningAuthority {
  certificate: x509.X509Certificate;
  key: CryptoKey;
}

/**
 * A 128-bit random serial with its top bit clear, so its DER INTEGER is positive; a leading zero
 * byte is drawn again, so the encoding is always 16 bytes and the hex always 32 characters.
 */
function randomSerial(): string {
  for (;;) {
    const bytes = randomBytes(16);
    bytes[0]! &= 0x7f;
    if (bytes[0] !== 0) return bytes.toString('hex');
  }
}

const name = (commonName: string, organization?: string): Array<Record<string, string[]>> => [
  { CN: [commonName] },
  ...(organization !== undefined ? [{ O: [organization] }] : []),
];

const exportPrivateKeyPem = async (key: CryptoKey) =>
  x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey), 'PRIVATE KEY');

/** A self-signed ECDSA P-256 CA valid for ten years: basicConstraints CA (critical), keyCertSign and cRLSign. */
export async function createCertificateAuthority(commonName: string, organization: string): Promise<CertificateAuthorityMaterial> {
  const keys = (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: name(commonName, organization),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + 3652 * DAY_MS),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return { certificatePem: certificate.toString('pem'), privateKeyPkcs8: Buffer.from(pkcs8) };
}

/** The CA's certificate and its private key imported for signing only (not extractable). */
export async function loadAuthority(certificatePem: string, privateKeyPkcs8: Buffer): Promise<SigningAuthority> {
  const key = await webcrypto.subtle.importKey('pkcs8', privateKeyPkcs8, P256, false, ['sign']);
  return { certificate: new x509.X509Certificate(certificatePem), key: key as unknown as CryptoKey };
}

export interface LeafOptions {
  commonName: string;
  days: number;
  usage: 'clientAuth' | 'serverAuth';
  /** Subject alternative names: URIs, DNS names, IP addresses. */
  altNames: Array<{ type: 'url' | 'dns' | 'ip'; value: string }>;
  /** The key to certify; a new P-256 key is generated (and returned) when absent. */
  publicKey?: x509.PublicKey;
}

/** An end-entity certificate signed by the authority; with a generated key, its PKCS#8 PEM too. */
export async function issueLeafCertificate(authority: SigningAuthority, options: LeafOptions): Promise<IssuedCertificate & { privateKeyPem: string | null }> {
  let publicKey: x509.PublicKey | CryptoKey;
  let privateKeyPem: string | null = null;
  if (options.publicKey) {
    publicKey = options.publicKey;
  } else {
    const keys = (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
    publicKey = keys.publicKey;
    privateKeyPem = await exportPrivateKeyPem(keys.privateKey);
  }
  const serial = randomSerial();
  const now = Date.now();
  const notAfter = new Date(now + options.days * DAY_MS);
  const eku = options.usage === 'clientAuth' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: name(options.commonName),
    issuer: authority.certificate.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter,
    signingAlgorithm: SIGNING,
    publicKey,
    signingKey: authority.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([eku], false),
      new x509.SubjectAlternativeNameExtension(options.altNames, false),
      await x509.AuthorityKeyIdentifierExtension.create(authority.certificate.publicKey),
    ],
  });
  return { certificatePem: certificate.toString('pem'), serial, notAfter: certificate.notAfter, privateKeyPem };
}

export class InvalidCsrError extends Error {}

/** The public key of a PEM PKCS#10 request whose self-signature checks out; an ECDSA or RSA key. */
export async function publicKeyOfCsr(pem: string): Promise<x509.PublicKey> {
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw new InvalidCsrError('is not a PEM PKCS#10 certificate request');
  }
  const ok = await request.verify().catch(() => false);
  if (!ok) throw new InvalidCsrError('has a signature that does not match its public key');
  return request.publicKey;
}

/** DER of an INTEGER, the value of the CRLNumber extension (RFC 5280 §5.2.3). */
function derInteger(value: bigint): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]));
}

export interface CrlOptions {
  number: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: Array<{ serial: string; revokedAt: Date }>;
}

/**
 * A CRL signed by the authority, PEM-encoded with the `X509 CRL` label: OpenSSL 3 refuses the
 * `CRL` label that @peculiar/x509's own toString writes.
 */
export async function signCrl(authority: SigningAuthority, options: CrlOptions): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: authority.certificate.subjectName,
    thisUpdate: options.thisUpdate,
    nextUpdate: options.nextUpdate,
    signingAlgorithm: SIGNING,
    signingKey: authority.key,
    entries: options.revoked.map((entry) => ({ serialNumber: entry.serial, revocationDate: entry.revokedAt })),
    extensions: [
      new x509.Extension(id_ce_cRLNumber, false, derInteger(options.number)),
      await x509.AuthorityKeyIdentifierExtension.create(authority.certificate.publicKey),
    ],
  });
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}
