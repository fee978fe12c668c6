import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Action, Subject } from '../rbac/permissions';
import { AuditEventEntity } from './audit-event.entity';
import { wordPrefixQuery } from './audit-search';

export interface AuditEventFilter {
  /** Email of the actor; undefined for everyone's events. */
  readonly actorEmail?: string;
  readonly kind?: string;
  readonly app?: string;
  readonly action?: Action;
  readonly subject?: Subject;
  readonly status?: number;
  readonly decision?: 'allowed' | 'denied';
  readonly since?: Date;
  readonly until?: Date;
  /** Free text: events with every word of it at the start of one of theirs (audit-search.ts). */
  readonly search?: string;
  /** Only events older than this sequence number (the previous page's cursor). */
  readonly before?: number;
  readonly limit: number;
}

/**
 * Reads the trail, newest first, a page at a time (keyset pagination on the sequence number). Each
 * filter that can single out a few events (actor, app, kind, status, action, subject, words) has an
 * index ending in the sequence number, so a page is read backwards from one index or picked out of a
 * few, however long the trail (1764460000000-AddAuditEventSearch).
 */
@Injectable()
export class AuditLog {
  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  async page(filter: AuditEventFilter): Promise<{ events: AuditEventEntity[]; nextCursor: number | null }> {
    const query = this.events
      .createQueryBuilder('event')
      .orderBy('event.seq', 'DESC')
      .take(filter.limit + 1);
    if (filter.actorEmail !== undefined) query.andWhere('event.actorEmail = :actor', { actor: filter.actorEmail.toLowerCase() });
    if (filter.kind !== undefined) query.andWhere('event.kind = :kind', { kind: filter.kind });
    if (filter.app !== undefined) query.andWhere('event.app = :app', { app: filter.app });
    if (filter.action !== undefined) query.andWhere('event.action = :action', { action: filter.action });
    if (filter.subject !== undefined) query.andWhere('event.subject = :subject', { subject: filter.subject });
    if (filter.status !== undefined) query.andWhere('event.status = :status', { status: filter.status });
    if (filter.decision !== undefined) query.andWhere('event.decision = :decision', { decision: filter.decision });
    if (filter.since !== undefined) query.andWhere('event.occurredAt >= :since', { since: filter.since });
    if (filter.until !== undefined) query.andWhere('event.occurredAt < :until', { until: filter.until });
    if (filter.before !== undefined) query.andWhere('event.seq < :before', { before: filter.before });
    const words = filter.search === undefined ? undefined : wordPrefixQuery(filter.search);
    if (words !== undefined) query.andWhere(`event.words @@ to_tsquery('simple', :words)`, { words });
    const events = await query.getMany();
    const more = events.length > filter.limit;
    const shown = more ? events.slice(0, filter.limit) : events;
    return { events: shown, nextCursor: more ? shown[shown.length - 1].seq : null };
  }

  /**
   * Events `from` to `to` (sequence numbers, inclusive; the whole chain by default), oldest first, a
   * page at a time so memory stays flat. A range of the chain, unlike a time range, has no gaps, so an
   * export verifies on its own.
   */
  async *stream(range: { readonly from?: number; readonly to?: number }): AsyncGenerator<AuditEventEntity> {
    let after = (range.from ?? 1) - 1;
    for (;;) {
      const query = this.events
        .createQueryBuilder('event')
        .where('event.seq > :after', { after })
        .orderBy('event.seq', 'ASC')
        .take(EXPORT_PAGE_SIZE);
      if (range.to !== undefined) query.andWhere('event.seq <= :to', { to: range.to });
      const page = await query.getMany();
      yield* page;
      if (page.length < EXPORT_PAGE_SIZE) return;
      after = page[page.length - 1].seq;
    }
  }
}

const EXPORT_PAGE_SIZE = 1_000;
