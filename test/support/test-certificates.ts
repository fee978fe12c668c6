import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** As Node's TLS socket reports the peer's: upper-case hex with colons. */
  readonly fingerprint256: string;
}

/** P-256 keys: generated in milliseconds, and what a modern CA issues. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * A throwaway certificate authority, made with the openssl CLI when a test starts, and the server
 * certificates it issues for 127.0.0.1 and localhost: what an operator's CA (or an ACME client) hands
 * the gateway. Go's verifier (the convox CLI) wants the names in subjectAltName, so they are there.
 */
export class TestCertificateAuthority {
  private constructor(
    /** Holds the CA and everything it issues; removed by dispose(). */
    readonly dir: string,
    readonly certFile: string,
    private readonly keyFile: string,
  ) {}

  static async create(name = 'Rack Gateway test CA'): Promise<TestCertificateAuthority> {
    const dir = await mkdtemp(join(tmpdir(), 'rgw-test-ca-'));
    const ca = new TestCertificateAuthority(dir, join(dir, 'ca.crt'), join(dir, 'ca.key'));
    await openssl([
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      ca.keyFile,
      '-out',
      ca.certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return ca;
  }

  /** The CA's certificate, for a client's trust store. */
  cert(): Promise<Buffer> {
    return readFile(this.certFile);
  }

  /** A new key and a certificate for it, named `name` (files `<name>.crt`, `<name>.key`), for 127.0.0.1 and localhost. */
  async issue(name: string): Promise<IssuedCertificate> {
    const certFile = join(this.dir, `${name}.crt`);
    const keyFile = join(this.dir, `${name}.key`);
    await openssl([
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-CA',
      this.certFile,
      '-CAkey',
      this.keyFile,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
    ]);
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    return { certFile, keyFile, cert, key, fingerprint256: new X509Certificate(cert).fingerprint256 };
  }

  dispose(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${stderr ?? String(error)}`, { cause: error });
  }
}
