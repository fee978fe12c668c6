import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

const bigintAsNumber = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** One audited event, as stored: append-only (triggers refuse UPDATE, DELETE and TRUNCATE) and chained. */
@Entity('audit_events')
@Index('audit_events_occurred_at', ['occurredAt'])
@Index('audit_events_actor', ['actorEmail', 'seq'])
@Index('audit_events_app', ['app', 'seq'])
@Index('audit_events_request', ['requestId'])
@Index('audit_events_kind', ['kind', 'seq'])
@Index('audit_events_status', ['status', 'seq'])
@Index('audit_events_subject', ['subject', 'action', 'seq'])
@Index('audit_events_action', ['action', 'seq'])
@Index('audit_events_id_key', ['id'], { unique: true })
// An expression index (details->>'deployApprovalId') TypeORM cannot describe: created by its migration, left alone here.
@Index('audit_events_deploy_approval', { synchronize: false })
// A GIN index of the builds and releases gateway requests created (details->'createdIds'), for reconciliation.
@Index('audit_events_created_ids', { synchronize: false })
// A GIN index on `words`, which TypeORM cannot describe either: created by its migration.
@Index('audit_events_words', { synchronize: false })
@Check('audit_events_decision_known', `decision IN ('allowed', 'denied')`)
export class AuditEventEntity {
  /** Position in the chain, from 1, without gaps. */
  @PrimaryColumn({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ type: 'uuid' })
  id!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'varchar', length: 40 })
  kind!: string;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId!: string | null;

  @Column({ name: 'actor_email', type: 'varchar', length: 320, nullable: true })
  actorEmail!: string | null;

  @Column({ name: 'actor_token_id', type: 'uuid', nullable: true })
  actorTokenId!: string | null;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  method!: string | null;

  @Column({ type: 'text', nullable: true })
  path!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  route!: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  action!: string | null;

  @Column({ type: 'varchar', length: 40, nullable: true })
  subject!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  app!: string | null;

  @Column({ type: 'varchar', length: 10 })
  decision!: 'allowed' | 'denied';

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'integer', nullable: true })
  status!: number | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs!: number | null;

  @Column({ name: 'bytes_in', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  bytesIn!: number | null;

  @Column({ name: 'bytes_out', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  bytesOut!: number | null;

  @Column({ type: 'jsonb', default: () => `'{}'` })
  details!: Record<string, unknown>;

  @Column({ name: 'prev_hash', type: 'bytea' })
  prevHash!: Buffer;

  @Column({ type: 'bytea' })
  hash!: Buffer;

  /**
   * What free-text search matches (audit_event_words in the migration): filled by a trigger on insert,
   * outside the chain (it is derived from hashed fields), never read back.
   */
  @Column({ type: 'tsvector', select: false, insert: false, update: false })
  words!: string;
}

/** The newest link of the chain; appends lock this one row, so instances append in one order. */
@Entity('audit_chain_head')
@Check('audit_chain_head_single_row', `id = 1`)
export class AuditChainHeadEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ type: 'bytea' })
  hash!: Buffer;
}

/**
 * Where the chain in the database starts once older events were archived and removed
 * (`npm run audit:retain`): the newest removed event's sequence number and HMAC, which the oldest
 * kept event links to. The newest `audit.retention` event records it too, under the chain's key.
 */
@Entity('audit_chain_anchor')
@Check('audit_chain_anchor_single_row', `id = 1`)
export class AuditChainAnchorEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ type: 'bytea' })
  hash!: Buffer;
}
