import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { type AuditCheckpoint, AuditCheckpoints } from './audit-checkpoints';
import { AuditChainHeadEntity, AuditEventEntity } from './audit-event.entity';
import { AuditKey } from './audit-key';
import { ChainWalk, type ChainedEvent } from './chain-walk';

/** Events read at a time: the check walks the whole chain in constant memory. */
const PAGE_SIZE = 1_000;

export type AuditVerification =
  | { readonly intact: true; readonly events: number; readonly headHash: string }
  | { readonly intact: false; readonly events: number; readonly brokenAt: number; readonly problem: string };

/**
 * Recomputes every link of the chain, in order, and reports the first that does not hold: an event
 * changed after it was written, one missing (a gap in the sequence), one out of place, or newest
 * events removed (the chain ends before its recorded head, or before a checkpoint kept outside the
 * database: AUDIT_CHECKPOINT_DIR).
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
    const walk = new ChainWalk(this.key.value, 'genesis');
    for (;;) {
      const page = await events
        .createQueryBuilder('event')
        .where('event.seq >= :next', { next: walk.nextSeq })
        .andWhere('event.seq <= :last', { last: head.seq })
        .orderBy('event.seq', 'ASC')
        .take(PAGE_SIZE)
        .getMany();
      const verdict = walkPage(walk, page);
      if (verdict) return verdict;
      if (page.length < PAGE_SIZE) break;
    }
    if (head.seq !== walk.events || !walk.lastHash?.equals(head.hash)) {
      const problem = `the chain ends at event ${walk.events}, but ${head.seq} were written`;
      return { intact: false, events: walk.events, brokenAt: walk.events + 1, problem };
    }
    const checkpointProblem = checkpoint && (await this.checkpointProblem(checkpoint, walk.events));
    if (checkpointProblem) return { intact: false, events: walk.events, ...checkpointProblem };
    return { intact: true, events: walk.events, headHash: head.hash.toString('hex') };
  }

  /** The chain must still reach the newest checkpoint kept outside the database, through the same event. */
  private async checkpointProblem(checkpoint: AuditCheckpoint, events: number): Promise<{ brokenAt: number; problem: string } | undefined> {
    if (checkpoint.seq > events) {
      return {
        brokenAt: events + 1,
        problem: `the chain ends at event ${events}, but a checkpoint of ${checkpoint.at} saw ${checkpoint.seq}`,
      };
    }
    if (checkpoint.seq === 0) return undefined;
    const event = await this.dataSource.getRepository(AuditEventEntity).findOneByOrFail({ seq: checkpoint.seq });
    if (event.hash.toString('hex') !== checkpoint.hash) {
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
