import { type KeyObject, X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { type SecureContextOptions, type Server as TlsServer, createSecureContext } from 'node:tls';

/** Where the gateway's own certificate chain and key live; replaced in place by whoever renews them. */
export interface ServerCertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A certificate chain and its private key, read and checked together. */
export interface ServerCertificate {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly subject: string;
  readonly fingerprint256: string;
  readonly validTo: Date;
}

/** Why a certificate pair cannot be served, and which of the two files is at fault. */
export class ServerCertificateError extends Error {
  constructor(
    readonly file: keyof ServerCertificateFiles,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads both files and checks they make a pair TLS will serve: a PEM certificate (chain, leaf first),
 * an unencrypted PEM key, and the key is the leaf's. Throws ServerCertificateError otherwise.
 */
export function readServerCertificate({ certFile, keyFile }: ServerCertificateFiles): ServerCertificate {
  const cert = readFile(certFile, 'certFile');
  const key = readFile(keyFile, 'keyFile');
  // X509Certificate also parses DER, which the TLS stack does not take.
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ServerCertificateError('certFile', `${certFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new ServerCertificateError('certFile', `${certFile} is not a valid PEM certificate (${reasonOf(error)})`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new ServerCertificateError('keyFile', `${keyFile} is not an unencrypted PEM private key (${reasonOf(error)})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ServerCertificateError('keyFile', `${keyFile} is not the private key of the certificate in ${certFile}`);
  }
  const certificate = {
    cert,
    key,
    subject: leaf.subject.replace(/\n/g, ', '),
    fingerprint256: leaf.fingerprint256,
    validTo: new Date(leaf.validTo),
  };
  try {
    // What the server will build from them: catches the rest (a broken intermediate, a key too weak for OpenSSL).
    createSecureContext(secureContextOptions(certificate));
  } catch (error) {
    throw new ServerCertificateError('certFile', `${certFile} with ${keyFile} is refused by TLS (${reasonOf(error)})`);
  }
  return certificate;
}

/**
 * The listener's TLS settings. TLS 1.2 at least, Node's default cipher list (AEAD and forward-secret
 * suites first, nothing legacy), and HTTP/1.1 only over ALPN: the convox CLI and websocket upgrades
 * speak HTTP/1.1, and the gateway's proxy and upgrade handling are built on it.
 */
export function httpsServerOptions(certificate: ServerCertificate): HttpsServerOptions {
  return { ...secureContextOptions(certificate), ALPNProtocols: ['http/1.1'] };
}

/** Also what a reload passes: setSecureContext resets every setting it is not given, the minimum version included. */
function secureContextOptions({ cert, key }: ServerCertificate): SecureContextOptions {
  return { cert, key, minVersion: 'TLSv1.2' };
}

export interface CertificateReloadLog {
  log(message: string): void;
  error(message: string): void;
}

/**
 * Reads both files again and has the server use them for new connections; connections already open
 * keep the certificate they were made with, so nothing is dropped. A pair that does not load is logged
 * and the current one kept: a reload never stops the gateway. Returns whether the new pair is served.
 */
export function reloadServerCertificate(server: TlsServer, files: ServerCertificateFiles, log: CertificateReloadLog): boolean {
  try {
    const certificate = readServerCertificate(files);
    server.setSecureContext(secureContextOptions(certificate));
    log.log(`TLS certificate reloaded: now serving ${describeServerCertificate(certificate)}`);
    return true;
  } catch (error) {
    log.error(`TLS certificate not reloaded, still serving the previous one: ${reasonOf(error)}`);
    return false;
  }
}

export function describeServerCertificate({ subject, fingerprint256, validTo }: ServerCertificate): string {
  return `${subject} (SHA-256 ${fingerprint256}, valid until ${validTo.toISOString()})`;
}

function readFile(path: string, file: keyof ServerCertificateFiles): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ServerCertificateError(file, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? reasonOf(error)})`);
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
