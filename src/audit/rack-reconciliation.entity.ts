import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** A build or release of the rack that reconciliation has judged, once: how it came to be. */
@Entity('audit_rack_resources')
@Check('audit_rack_resources_kind_known', `kind IN ('build', 'release')`)
@Check('audit_rack_resources_verdict_known', `verdict IN ('baseline', 'gateway', 'direct')`)
export class AuditRackResourceEntity {
  @PrimaryColumn({ type: 'varchar', length: 10, primaryKeyConstraintName: 'audit_rack_resources_pkey' })
  kind!: 'build' | 'release';

  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'audit_rack_resources_pkey' })
  id!: string;

  @Column({ type: 'varchar', length: 200 })
  app!: string;

  /** `baseline`: there at the first look; `gateway`: an audited request made it; `direct`: flagged. */
  @Column({ type: 'varchar', length: 10 })
  verdict!: 'baseline' | 'gateway' | 'direct';

  /** When the rack says it was made, as the rack wrote it (its clock, not ours). */
  @Column({ name: 'rack_created_at', type: 'varchar', length: 64, nullable: true })
  rackCreatedAt!: string | null;

  @Column({ name: 'seen_at', type: 'timestamptz', default: () => 'now()' })
  seenAt!: Date;
}

/** When reconciliation last looked at the rack; absent until its first look, which only takes stock. */
@Entity('audit_rack_reconciliation')
@Check('audit_rack_reconciliation_single_row', `id = 1`)
export class AuditRackReconciliationEntity {
  @PrimaryColumn({ type: 'smallint' })
  id!: number;

  @Column({ name: 'last_run_at', type: 'timestamptz' })
  lastRunAt!: Date;
}
