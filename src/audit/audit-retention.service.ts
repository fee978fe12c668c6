import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { GENESIS_HASH, appendAfter } from './audit-chain';
import { AuditChainAnchorEntity, AuditEventEntity } from './audit-event.entity';
import { jsonLines } from './audit-export';
import { AuditKey } from './audit-key';
import type { AuditRecord } from './audit-record';
import { gatewayEvent } from './audit-records';
import { RETENTION_EVENT_KIND } from './audit-verifier.service';
import { type ChainAnchor, ChainWalk } from './chain-walk';

/** Events read at a time while archiving: memory stays flat whatever the range. */
const PAGE_SIZE = 1_000;

export interface RetentionRequest {
  /** Events that occurred before this are removed, as far as the chain allows (see `retain`). */
  readonly before: Date;
  /** The JSON-lines file they are archived to first; it must not exist yet. */
  readonly archivePath: string;
  /** Who ran it, as the `audit.retention` event records (an operator's account and host). */
  readonly operator: string;
}

export interface RetentionOutcome {
  readonly removed: number;
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly archiveSha256: string;
  /** The anchor left behind: the last removed event, which the oldest kept one links to. */
  readonly anchor: { readonly seq: number; readonly hash: string };
  /** Where the `audit.retention` event went in the chain. */
  readonly eventSeq: number;
}

export class RetentionRefusedError extends Error {}

/**
 * Removes the oldest events of the chain after archiving them (`npm run audit:retain`), leaving it
 * verifiable from an anchor. Only a prefix of the chain can go (events from the current anchor up to
 * the last one before the first event at or after `before`), or what stays would not link. In order:
 * the range is walked from the anchor (a broken chain is not archived away) into the archive, which
 * is fsync'd with its directory; then one transaction locks the chain head, records the new anchor,
 * deletes the range through the trigger's retention path and appends an `audit.retention` event that
 * records the count, range, archive name and SHA-256 and the anchor, under the chain's key.
 */
@Injectable()
export class AuditRetention {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly key: AuditKey,
  ) {}

  /** What was removed, or undefined when no event is old enough (then no archive is written). */
  async retain(request: RetentionRequest): Promise<RetentionOutcome | undefined> {
    const anchor = await this.currentAnchor();
    const toSeq = await this.lastRemovable(request.before);
    if (toSeq <= anchor.seq) return undefined;
    const archived = await this.archive(anchor, toSeq, request.archivePath);
    return this.remove(anchor, archived, request);
  }

  private async currentAnchor(): Promise<ChainAnchor> {
    const anchor = await this.dataSource.getRepository(AuditChainAnchorEntity).findOneBy({ id: 1 });
    return anchor ? { seq: anchor.seq, hash: anchor.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /** The newest event that can go: every event up to it occurred before `before`. */
  private async lastRemovable(before: Date): Promise<number> {
    const [{ last }] = await this.dataSource.query<Array<{ last: string }>>(
      `SELECT COALESCE((SELECT min(seq) FROM audit_events WHERE occurred_at >= $1), (SELECT seq + 1 FROM audit_chain_head WHERE id = 1)) - 1 AS last`,
      [before],
    );
    return Number(last);
  }

  /** Writes events after `anchor` up to `toSeq` to a new file, checking each link, and makes it durable. */
  private async archive(anchor: ChainAnchor, toSeq: number, path: string): Promise<{ toSeq: number; hash: Buffer; sha256: string }> {
    const walk = new ChainWalk(this.key.value, anchor);
    const digest = createHash('sha256');
    const file = await open(path, 'wx');
    try {
      for await (const chunk of jsonLines(this.events(walk, toSeq)) as AsyncIterable<string>) {
        digest.update(chunk);
        await file.write(chunk);
      }
      await file.sync();
    } catch (error) {
      // Nothing was removed: an archive of part of the range would only mislead.
      await file.close();
      await rm(path, { force: true });
      throw error;
    }
    await file.close();
    await syncDirectory(dirname(path));
    if (walk.lastSeq !== toSeq || !walk.lastHash) throw new RetentionRefusedError(`event ${walk.nextSeq} is missing`);
    return { toSeq, hash: walk.lastHash, sha256: digest.digest('hex') };
  }

  private async *events(walk: ChainWalk, toSeq: number): AsyncGenerator<AuditEventEntity> {
    const repository = this.dataSource.getRepository(AuditEventEntity);
    for (;;) {
      const page = await repository
        .createQueryBuilder('event')
        .where('event.seq >= :next AND event.seq <= :to', { next: walk.nextSeq, to: toSeq })
        .orderBy('event.seq', 'ASC')
        .take(PAGE_SIZE)
        .getMany();
      for (const event of page) {
        const problem = walk.check(event);
        if (problem) throw new RetentionRefusedError(`the chain does not hold, so nothing was removed: ${problem}`);
        yield event;
      }
      if (page.length < PAGE_SIZE) return;
    }
  }

  private async remove(
    anchor: ChainAnchor,
    archived: { toSeq: number; hash: Buffer; sha256: string },
    request: RetentionRequest,
  ): Promise<RetentionOutcome> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // The head's lock orders this with every append (and with another retention), until commit.
      const [head] = (await runner.query(`SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE`)) as HeadRow[];
      const [current] = (await runner.query(`SELECT seq FROM audit_chain_anchor WHERE id = 1`)) as Array<{ seq: string }>;
      if (Number(current?.seq ?? 0) !== anchor.seq) throw new RetentionRefusedError('another retention ran meanwhile; nothing was removed');
      await runner.query(`SET LOCAL rgw.audit_retention = 'on'`);
      await runner.query(
        `INSERT INTO audit_chain_anchor (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = $1, hash = $2`,
        [archived.toSeq, archived.hash],
      );
      const [, removed] = (await runner.query(`DELETE FROM audit_events WHERE seq > $1 AND seq <= $2`, [anchor.seq, archived.toSeq])) as [
        unknown,
        number,
      ];
      if (removed !== archived.toSeq - anchor.seq)
        throw new RetentionRefusedError(`${removed} events matched where ${archived.toSeq - anchor.seq} were archived`);
      const outcome = {
        removed,
        fromSeq: anchor.seq + 1,
        toSeq: archived.toSeq,
        archiveSha256: archived.sha256,
        anchor: { seq: archived.toSeq, hash: archived.hash.toString('hex') },
      };
      // In this transaction, after the head it locked: the retention's event commits with its removal
      // or not at all, which AuditTrail (its own connection) cannot do. The trail, finding the head
      // moved, links its next batch after this one.
      const appended = await appendAfter(
        (sql, parameters) => runner.query(sql, parameters),
        this.key.value,
        { seq: Number(head.seq), hash: head.hash },
        [retentionEvent(outcome, request)],
      );
      if (!appended) throw new Error('the audit chain head moved while this transaction held it');
      await runner.commitTransaction();
      return { ...outcome, eventSeq: appended.seq };
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }
}

interface HeadRow {
  readonly seq: string;
  readonly hash: Buffer;
}

function retentionEvent(outcome: Omit<RetentionOutcome, 'eventSeq'>, request: RetentionRequest): AuditRecord {
  return gatewayEvent(RETENTION_EVENT_KIND, {
    details: {
      operator: request.operator,
      before: request.before.toISOString(),
      removed: outcome.removed,
      fromSeq: outcome.fromSeq,
      toSeq: outcome.toSeq,
      archive: basename(request.archivePath),
      archiveSha256: outcome.archiveSha256,
      anchor: outcome.anchor,
    },
  });
}

/** A new file's name is durable only once its directory is; not every platform lets one open a directory. */
async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r').catch(() => undefined);
  if (!directory) return;
  try {
    await directory.sync().catch(() => undefined);
  } finally {
    await directory.close();
  }
}
