import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, MoreThan } from 'typeorm';
import { GENESIS_HASH, chainHash } from './audit-chain';
import { AuditChainHeadEntity, AuditEventEntity } from './audit-event.entity';
import { AuditKey } from './audit-key';

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
    let previous: Buffer = GENESIS_HASH;
    let expected = 1;
    for (;;) {
      const page = await events.find({ where: { seq: MoreThan(expected - 1) }, order: { seq: 'ASC' }, take: PAGE_SIZE });
      for (const event of page) {
        const broken = (problem: string): AuditVerification => ({ intact: false, events: expected - 1, brokenAt: expected, problem });
        if (event.seq !== expected) return broken(`event ${expected} is missing`);
        if (!event.prevHash.equals(previous)) return broken(`event ${expected} does not follow event ${expected - 1}`);
        if (!chainHash(this.key.value, event.seq, event.prevHash, event).equals(event.hash)) {
          return broken(`event ${expected} was changed after it was written`);
        }
        previous = event.hash;
        expected += 1;
      }
      if (page.length < PAGE_SIZE) break;
    }
    const head = await this.dataSource.getRepository(AuditChainHeadEntity).findOneByOrFail({ id: 1 });
    const count = expected - 1;
    if (head.seq !== count || !head.hash.equals(previous)) {
      return {
        intact: false,
        events: count,
        brokenAt: expected,
        problem: `the chain ends at event ${count}, but ${head.seq} were written`,
      };
    }
    return { intact: true, events: count, headHash: previous.toString('hex') };
  }
}
