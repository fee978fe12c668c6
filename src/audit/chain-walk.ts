import { GENESIS_HASH, chainHash } from './audit-chain';
import type { AuditRecord } from './audit-record';

/** An event with its place in the chain, from the database or an export. */
export interface ChainedEvent extends AuditRecord {
  readonly seq: number;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/** A link the chain is known to continue from: the newest event removed by retention, kept as its anchor. */
export interface ChainAnchor {
  readonly seq: number;
  readonly hash: Buffer;
}

/**
 * Walks a chain in order and names the first link that does not hold. From the genesis (the whole
 * chain in the database), from a retention anchor (what is left of it after older events were
 * archived), or from wherever an export starts: its first event is then taken as the anchor, and
 * everything after it must follow.
 */
export class ChainWalk {
  private expected: number | undefined;
  private previous: Buffer | undefined;
  private walked = 0;
  private readonly anchor: ChainAnchor | undefined;

  constructor(
    private readonly key: Buffer,
    from: 'genesis' | 'first-event' | ChainAnchor,
  ) {
    if (from === 'first-event') return;
    this.anchor = from === 'genesis' ? undefined : from;
    this.expected = (this.anchor?.seq ?? 0) + 1;
    this.previous = this.anchor?.hash ?? GENESIS_HASH;
  }

  /** Events that held so far. */
  get events(): number {
    return this.walked;
  }

  get lastHash(): Buffer | undefined {
    return this.previous;
  }

  /** The sequence number of the last event that held, or of the anchor before any did. */
  get lastSeq(): number | undefined {
    return this.expected === undefined ? undefined : this.expected - 1;
  }

  /** The sequence number the next event must have. */
  get nextSeq(): number | undefined {
    return this.expected;
  }

  /** A description of what is wrong with this event, or undefined if it holds. */
  check(event: ChainedEvent): string | undefined {
    const expected = this.expected ?? event.seq;
    if (event.seq !== expected) return `event ${expected} is missing`;
    if (this.previous && !event.prevHash.equals(this.previous)) {
      const before = this.anchor && this.walked === 0 ? `the retention anchor (event ${this.anchor.seq})` : `event ${expected - 1}`;
      return `event ${expected} does not follow ${before}`;
    }
    if (!chainHash(this.key, event.seq, event.prevHash, event).equals(event.hash))
      return `event ${expected} was changed after it was written`;
    this.previous = event.hash;
    this.expected = expected + 1;
    this.walked += 1;
    return undefined;
  }
}
