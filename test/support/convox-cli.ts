import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs the stock convox CLI (a Go binary, not part of the project) as a child process against a gateway,
 * the way a user does: `RACK_URL=http://convox:<token>@host convox …`. Each CLI gets a throwaway HOME, so
 * nothing from the developer's ~/.config/convox (racks, logins, a RACK_URL) leaks into a test.
 */

export type ConvoxBinaryLookup = { readonly path: string } | { readonly path: null; readonly reason: string };

/** The binary named by CONVOX_BIN, or why there is none. */
export function findConvoxBinary(configured = process.env.CONVOX_BIN): ConvoxBinaryLookup {
  if (!configured) return { path: null, reason: 'CONVOX_BIN is not set' };
  try {
    accessSync(configured, constants.X_OK);
    return { path: configured };
  } catch {
    return { path: null, reason: `CONVOX_BIN=${configured} is not an executable file` };
  }
}

export interface ConvoxRunOptions {
  /** The gateway token sent as the RACK_URL password. */
  readonly token: string;
  /** Working directory (the CLI packages it on `deploy`); the throwaway home by default. */
  readonly cwd?: string;
  /** Written to the CLI's stdin, then closed; stdin is empty otherwise. */
  readonly stdin?: string;
  /** The child is killed after this long. Default 20 s. */
  readonly timeoutMs?: number;
}

export interface ConvoxRun {
  /** Exit code; null when the child was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export class ConvoxCli {
  /** Children still running, each with a promise settled once it has exited. */
  private readonly running = new Map<ChildProcess, Promise<unknown>>();

  private constructor(
    private readonly binary: string,
    private readonly gatewayUrl: URL,
    /** The CLI's HOME and XDG config directory, removed by dispose(). */
    readonly home: string,
    private readonly trustedCaFile: string | undefined,
  ) {}

  /**
   * `trustedCaFile`: a CA bundle for an https:// gateway, given to the CLI the way Go programs take one
   * on Linux (SSL_CERT_FILE), as a user with a private CA would.
   */
  static async create(binary: string, gatewayUrl: string, { trustedCaFile }: { trustedCaFile?: string } = {}): Promise<ConvoxCli> {
    return new ConvoxCli(binary, new URL(gatewayUrl), await mkdtemp(join(tmpdir(), 'rgw-convox-home-')), trustedCaFile);
  }

  /** RACK_URL as the README tells users to write it. Tokens are `[A-Za-z0-9_-]`, safe unescaped. */
  rackUrl(token: string): string {
    return `${this.gatewayUrl.protocol}//convox:${token}@${this.gatewayUrl.host}`;
  }

  run(args: string[], options: ConvoxRunOptions): Promise<ConvoxRun> {
    const child = spawn(this.binary, args, {
      cwd: options.cwd ?? this.home,
      // Exactly this environment: no CONVOX_* or RACK_URL of the developer's shell.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.home,
        XDG_CONFIG_HOME: join(this.home, '.config'),
        RACK_URL: this.rackUrl(options.token),
        ...(this.trustedCaFile ? { SSL_CERT_FILE: this.trustedCaFile } : {}),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const result = new Promise<ConvoxRun>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs ?? 20_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        this.running.delete(child);
        reject(error);
      });
      // 'close', not 'exit': the output pipes are drained by then.
      child.once('close', (code) => {
        clearTimeout(timer);
        this.running.delete(child);
        resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8'), timedOut });
      });
      // The CLI may exit before reading its stdin; a closed pipe is not the test's failure.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.stdin ?? '');
    });
    this.running.set(
      child,
      result.catch(() => undefined),
    );
    return result;
  }

  /** Kills every CLI still running (a failed assertion or a timeout can leave one behind) and waits for it. */
  async killAll(): Promise<void> {
    for (const child of this.running.keys()) child.kill('SIGKILL');
    await Promise.all(this.running.values());
  }

  async dispose(): Promise<void> {
    await this.killAll();
    await rm(this.home, { recursive: true, force: true });
  }
}
