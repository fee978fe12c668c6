import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { appendFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { AuditCheckpointUnavailableError } from './audit.errors';

/** The chain head as it was at a moment, kept outside the database. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

/** Somewhere outside the database that keeps checkpoints and gives back the newest. */
interface CheckpointTarget {
  /** Where, for logs and errors: never a credential. */
  readonly description: string;
  append(checkpoint: AuditCheckpoint): Promise<void>;
  latest(): Promise<AuditCheckpoint | undefined>;
}

/** A checkpoint receiver that does not answer within this long is tried again at the next interval. */
const HTTP_TIMEOUT_MS = 5_000;

/**
 * Writes the chain head every AUDIT_CHECKPOINT_SECONDS (when it moved) to AUDIT_CHECKPOINT_DIR, one
 * JSON line per checkpoint in a file of this instance's own, and POSTs it to AUDIT_CHECKPOINT_URL.
 * Whoever can rewrite the database can remove the newest events and set the head back, and the chain
 * alone would still hold; a checkpoint they cannot reach shows it. The verifier reads the newest
 * checkpoint back from each. A target that fails is logged and tried again at the next interval; the
 * timer is off the request path, so nothing waits for it.
 */
@Injectable()
export class AuditCheckpoints implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditCheckpoints.name);
  /** Each target with the sequence number it last took, so one that failed is tried again though the head stayed. */
  private readonly targets: Array<{ readonly target: CheckpointTarget; lastSeq: number }>;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    const { checkpointDir, checkpointUrl, checkpointToken } = config.audit;
    const targets: CheckpointTarget[] = [];
    if (checkpointDir) targets.push(new DirectoryCheckpoints(checkpointDir));
    if (checkpointUrl) targets.push(new HttpCheckpoints(checkpointUrl, checkpointToken));
    this.targets = targets.map((target) => ({ target, lastSeq: -1 }));
  }

  onApplicationBootstrap(): void {
    if (this.targets.length === 0) return;
    this.timer = setInterval(
      () => void this.write().catch((error: Error) => this.logger.error(`checkpoint failed: ${error.message}`)),
      this.config.audit.checkpointIntervalMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Records the current head with every target that has not taken it yet; a failing target is logged, not thrown. */
  async write(): Promise<void> {
    if (this.targets.length === 0) return;
    const [head] = await this.dataSource.query<Array<{ seq: string; hash: Buffer }>>(`SELECT seq, hash FROM audit_chain_head WHERE id = 1`);
    const seq = Number(head.seq);
    const checkpoint: AuditCheckpoint = { seq, hash: head.hash.toString('hex'), at: new Date().toISOString() };
    await Promise.all(
      this.targets
        .filter((entry) => entry.lastSeq !== seq)
        .map(async (entry) => {
          try {
            await entry.target.append(checkpoint);
            entry.lastSeq = seq;
          } catch (error) {
            this.logger.error(
              `checkpoint of event ${seq} to ${entry.target.description} failed, retrying next interval: ${describe(error)}`,
            );
          }
        }),
    );
  }

  /**
   * The newest checkpoint any target holds (the highest sequence number), or undefined when none is
   * configured or written. A target that cannot be read fails the check rather than pass it unchecked.
   */
  async latest(): Promise<AuditCheckpoint | undefined> {
    let newest: AuditCheckpoint | undefined;
    for (const { target } of this.targets) {
      let checkpoint: AuditCheckpoint | undefined;
      try {
        checkpoint = await target.latest();
      } catch (error) {
        throw new AuditCheckpointUnavailableError(target.description, describe(error));
      }
      if (checkpoint && (!newest || checkpoint.seq > newest.seq)) newest = checkpoint;
    }
    return newest;
  }
}

class DirectoryCheckpoints implements CheckpointTarget {
  readonly description: string;
  private readonly file: string;

  constructor(private readonly directory: string) {
    this.description = directory;
    this.file = join(directory, `checkpoints-${hostname()}-${process.pid}.jsonl`);
  }

  async append(checkpoint: AuditCheckpoint): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    await appendFile(this.file, `${JSON.stringify(checkpoint)}\n`, { flush: true });
  }

  /** The newest checkpoint of every instance's file. */
  async latest(): Promise<AuditCheckpoint | undefined> {
    const files = (await readdir(this.directory).catch(() => [] as string[])).filter((name) => name.endsWith('.jsonl'));
    let newest: AuditCheckpoint | undefined;
    for (const name of files) {
      for (const line of (await readFile(join(this.directory, name), 'utf8')).split('\n')) {
        if (!line.trim()) continue;
        const checkpoint = JSON.parse(line) as AuditCheckpoint;
        if (!newest || checkpoint.seq > newest.seq) newest = checkpoint;
      }
    }
    return newest;
  }
}

/**
 * A checkpoint receiver over HTTP (README, "Checkpoints over HTTP"): `POST <url>` with a checkpoint
 * as JSON appends it, any 2xx meaning kept; `GET <url>` answers the newest it holds (the highest
 * `seq`) as JSON, or 404 when it holds none. Both carry `Authorization: Bearer <token>` when one is
 * set. Redirects are refused, so the token only ever goes to the configured origin.
 */
class HttpCheckpoints implements CheckpointTarget {
  /** The origin only: the path may be the credential, as a webhook URL's often is. */
  readonly description: string;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly url: URL,
    token: string | undefined,
  ) {
    this.description = url.origin;
    this.headers = { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
  }

  async append(checkpoint: AuditCheckpoint): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/json' },
      body: JSON.stringify(checkpoint),
      redirect: 'error',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`the receiver answered ${response.status}`);
  }

  async latest(): Promise<AuditCheckpoint | undefined> {
    const response = await fetch(this.url, { headers: this.headers, redirect: 'error', signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`the receiver answered ${response.status}`);
    }
    return readCheckpoint(await response.json());
  }
}

function readCheckpoint(value: unknown): AuditCheckpoint {
  const { seq, hash, at } = (value ?? {}) as Record<string, unknown>;
  if (
    !Number.isSafeInteger(seq) ||
    (seq as number) < 0 ||
    typeof hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(hash) ||
    typeof at !== 'string'
  ) {
    throw new Error('the receiver answered something other than a checkpoint ({"seq", "hash", "at"})');
  }
  return { seq: seq as number, hash, at };
}

/** An error's message with its cause (fetch's own says only "fetch failed"); URLs and tokens are never in either. */
function describe(error: unknown): string {
  const { message, cause } = error as Error & { cause?: { code?: string; message?: string } };
  return cause ? `${message} (${cause.code ?? cause.message ?? 'unknown cause'})` : message;
}
