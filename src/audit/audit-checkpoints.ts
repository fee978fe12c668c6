import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { appendFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** The chain head as it was at a moment, kept outside the database. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

/**
 * Writes the chain head to AUDIT_CHECKPOINT_DIR every AUDIT_CHECKPOINT_SECONDS (when it moved), one
 * JSON line per checkpoint in a file of this instance's own. Whoever can rewrite the database can
 * remove the newest events and set the head back, and the chain alone would still hold; a
 * checkpoint they cannot reach shows it. The verifier reads the newest checkpoint of every file.
 */
@Injectable()
export class AuditCheckpoints implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditCheckpoints.name);
  private readonly directory: string | undefined;
  private readonly file: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSeq = -1;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {
    this.directory = config.audit.checkpointDir;
    this.file = this.directory && join(this.directory, `checkpoints-${hostname()}-${process.pid}.jsonl`);
  }

  onApplicationBootstrap(): void {
    if (!this.directory) return;
    this.timer = setInterval(
      () => void this.write().catch((error: Error) => this.logger.error(`checkpoint failed: ${error.message}`)),
      this.config.audit.checkpointIntervalMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Records the current head, if it moved since the last checkpoint. */
  async write(): Promise<void> {
    if (!this.directory || !this.file) return;
    const [head] = await this.dataSource.query<Array<{ seq: string; hash: Buffer }>>(`SELECT seq, hash FROM audit_chain_head WHERE id = 1`);
    const seq = Number(head.seq);
    if (seq === this.lastSeq) return;
    await mkdir(this.directory, { recursive: true });
    const checkpoint: AuditCheckpoint = { seq, hash: head.hash.toString('hex'), at: new Date().toISOString() };
    await appendFile(this.file, `${JSON.stringify(checkpoint)}\n`, { flush: true });
    this.lastSeq = seq;
  }

  /** The newest checkpoint any instance wrote, or undefined when none is configured or written. */
  async latest(): Promise<AuditCheckpoint | undefined> {
    if (!this.directory) return undefined;
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
