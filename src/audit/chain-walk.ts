import { GENESIS_HASH, chainHash } from './audit-chain';
import type { AuditRecord } from './audit-record';

/** An event with its place in the chain, from the database or an export. */
export interface ChainedEvent extends AuditRecord {
  readonly seq: number;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/**
 * Walks a chain in order and names the first link that does not hold. From the genesis (the whole
 * chain in the database), or from wherever an export starts: its first event is then taken as the
 * anchor, and everything after it must follow.
 */
export class ChainWalk {
  private expected: number | undefined;
  private previous: Buffer | undefined;
  private walked = 0;

  constructor(
    private readonly key: Buffer,
    from: 'genesis' | 'first-event',
  ) {
    if (from === 'genesis') {
      this.expected = 1;
      this.previous = GENESIS_HASH;
    }
  }

  /** Events that held so far. */
  get events(): number {
    return this.walked;
  }

  get lastHash(): Buffer | undefined {
    return this.previous;
  }

  /** The sequence number the next event must have. */
  get nextSeq(): number | undefined {
    return this.expected;
  }

  /** A description of what is wrong with this event, or undefined if it holds. */
  check(event: ChainedEvent): string | undefined {
    const expected = this.expected ?? event.seq;
    if (event.seq !== expected) return `event ${expected} is missing`;
    if (this.previous && !event.prevHash.equals(this.previous)) return `event ${expected} does not follow event ${expected - 1}`;
    if (!chainHash(this.key, event.seq, event.prevHash, event).equals(event.hash))
      return `event ${expected} was changed after it was written`;
    this.previous = event.hash;
    this.expected = expected + 1;
    this.walked += 1;
    return undefined;
  }
}
