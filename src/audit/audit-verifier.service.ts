import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditCheckpoint, AuditCheckpoints } from './audit-checkpoints';
import { AuditChainAnchorEntity, AuditChainHeadEntity, AuditEventEntity } from './audit-event.entity';
import { AuditKey } from './audit-key';
import { ChainWalk, type ChainedEvent } from './chain-walk';

/** Events read at a time: the check walks the whole chain in constant memory. */
const PAGE_SIZE = 1_000;

/** The event `npm run audit:retain` appends, recording what it removed and the anchor it left. */
export const RETENTION_EVENT_KIND = 'audit.retention';

export type AuditVerification =
  | { readonly intact: true; readonly events: number; readonly headHash: string; readonly anchorSeq?: number }
  | { readonly intact: false; readonly events: number; readonly brokenAt: number; readonly problem: string; readonly anchorSeq?: number };

/** What an `audit.retention` event records of the anchor it left (AuditRetention). */
export interface RetentionAnchorDetails {
  readonly anchor?: { readonly seq?: unknown; readonly hash?: unknown };
}

/**
 * Recomputes every link of the chain, in order, and reports the first that does not hold: an event
 * changed after it was written, one missing (a gap in the sequence), one out of place, or newest
 * events removed (the chain ends before its recorded head, or before a checkpoint kept outside the
 * database: AUDIT_CHECKPOINT_DIR, AUDIT_CHECKPOINT_URL). After a retention the chain starts at its
 * anchor, which must be the one the newest `audit.retention` event recorded: an anchor moved by hand
 * (to hide more removed events) shows.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly key: AuditKey,
    private readonly checkpoints: AuditCheckpoints,
  ) {}

  async verify(): Promise<AuditVerification> {
    // The checkpoint, then the head, then the events up to it: what is appended meanwhile is beyond all three.
    const checkpoint = await this.checkpoints.latest();
    const head = await this.dataSource.getRepository(AuditChainHeadEntity).findOneByOrFail({ id: 1 });
    const events = this.dataSource.getRepository(AuditEventEntity);
    const anchor = await this.dataSource.getRepository(AuditChainAnchorEntity).findOneBy({ id: 1 });
    const anchored = anchor ? { anchorSeq: anchor.seq } : {};
    const walk = new ChainWalk(this.key.value, anchor ?? 'genesis');
    let retention: AuditEventEntity | undefined;
    for (;;) {
      const page = await events
        .createQueryBuilder('event')
        .where('event.seq >= :next', { next: walk.nextSeq })
        .andWhere('event.seq <= :last', { last: head.seq })
        .orderBy('event.seq', 'ASC')
        .take(PAGE_SIZE)
        .getMany();
      const verdict = walkPage(walk, page);
      if (verdict) return { ...verdict, ...anchored };
      retention = page.findLast((event) => event.kind === RETENTION_EVENT_KIND) ?? retention;
      if (page.length < PAGE_SIZE) break;
    }
    const lastSeq = walk.lastSeq ?? 0;
    if (head.seq !== lastSeq || !walk.lastHash?.equals(head.hash)) {
      const problem = `the chain ends at event ${lastSeq}, but ${head.seq} were written`;
      return { intact: false, events: walk.events, brokenAt: lastSeq + 1, problem, ...anchored };
    }
    const anchorProblem = anchor && this.anchorProblem(anchor, retention);
    if (anchorProblem) return { intact: false, events: walk.events, brokenAt: anchor.seq, problem: anchorProblem, ...anchored };
    const checkpointProblem = checkpoint && (await this.checkpointProblem(checkpoint, lastSeq, anchor));
    if (checkpointProblem) return { intact: false, events: walk.events, ...checkpointProblem, ...anchored };
    return { intact: true, events: walk.events, headHash: head.hash.toString('hex'), ...anchored };
  }

  /** The anchor must be the one the newest retention recorded under the chain's key; undefined if it is. */
  private anchorProblem(anchor: AuditChainAnchorEntity, retention: AuditEventEntity | undefined): string | undefined {
    if (!retention) return `no audit.retention event records the retention anchor (event ${anchor.seq})`;
    const recorded = (retention.details as RetentionAnchorDetails).anchor;
    if (recorded?.seq === anchor.seq && recorded.hash === anchor.hash.toString('hex')) return undefined;
    return `the retention anchor (event ${anchor.seq}) is not the one the newest audit.retention event (${retention.seq}) recorded`;
  }

  /** The chain must still reach the newest checkpoint kept outside the database, through the same event. */
  private async checkpointProblem(
    checkpoint: AuditCheckpoint,
    lastSeq: number,
    anchor: AuditChainAnchorEntity | null,
  ): Promise<{ brokenAt: number; problem: string } | undefined> {
    if (checkpoint.seq > lastSeq) {
      return {
        brokenAt: lastSeq + 1,
        problem: `the chain ends at event ${lastSeq}, but a checkpoint of ${checkpoint.at} saw ${checkpoint.seq}`,
      };
    }
    if (checkpoint.seq === 0) return undefined;
    // Checkpointed events since archived by a retention: the anchor is the only one of them still here.
    if (anchor && checkpoint.seq < anchor.seq) return undefined;
    const hash =
      anchor?.seq === checkpoint.seq
        ? anchor.hash
        : (await this.dataSource.getRepository(AuditEventEntity).findOneByOrFail({ seq: checkpoint.seq })).hash;
    if (hash.toString('hex') !== checkpoint.hash) {
      return { brokenAt: checkpoint.seq, problem: `event ${checkpoint.seq} is not the one the checkpoint of ${checkpoint.at} saw` };
    }
    return undefined;
  }
}

/** Checks events one by one: a verdict at the first broken link, undefined if all held. */
export function walkPage(walk: ChainWalk, events: Iterable<ChainedEvent>): AuditVerification | undefined {
  for (const event of events) {
    const problem = walk.check(event);
    if (problem) return { intact: false, events: walk.events, brokenAt: walk.nextSeq ?? event.seq, problem };
  }
  return undefined;
}
