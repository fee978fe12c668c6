import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
 * events removed (the chain ends before its recorded head).
 */
@Injectable()
export class AuditVerifier {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly key: AuditKey,
  ) {}

  async verify(): Promise<AuditVerification> {
    const events = this.dataSource.getRepository(AuditEventEntity);
    const walk = new ChainWalk(this.key.value, 'genesis');
    for (;;) {
      const page = await events
        .createQueryBuilder('event')
        .where('event.seq >= :next', { next: walk.nextSeq })
        .orderBy('event.seq', 'ASC')
        .take(PAGE_SIZE)
        .getMany();
      const verdict = walkPage(walk, page);
      if (verdict) return verdict;
      if (page.length < PAGE_SIZE) break;
    }
    const head = await this.dataSource.getRepository(AuditChainHeadEntity).findOneByOrFail({ id: 1 });
    if (head.seq !== walk.events || !walk.lastHash?.equals(head.hash)) {
      const problem = `the chain ends at event ${walk.events}, but ${head.seq} were written`;
      return { intact: false, events: walk.events, brokenAt: walk.events + 1, problem };
    }
    return { intact: true, events: walk.events, headHash: head.hash.toString('hex') };
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
