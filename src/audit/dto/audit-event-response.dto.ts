import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuditEventEntity } from '../audit-event.entity';

/** One event as stored, its chain link in hex, so a reader can check it against an export. */
export class AuditEventResponseDto {
  @ApiProperty() seq!: number;
  @ApiProperty() id!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty({ example: 'rack.exchange' }) kind!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) requestId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) actorEmail!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) actorTokenId!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) clientIp!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) userAgent!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) method!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) path!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) route!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) action!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) subject!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) app!: string | null;
  @ApiProperty({ enum: ['allowed', 'denied'] }) decision!: 'allowed' | 'denied';
  @ApiPropertyOptional({ nullable: true, type: String }) reason!: string | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) status!: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) durationMs!: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) bytesIn!: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) bytesOut!: number | null;
  @ApiProperty({ type: Object }) details!: Record<string, unknown>;
  @ApiProperty({ description: 'HMAC of the previous event (hex)' }) prevHash!: string;
  @ApiProperty({ description: 'HMAC of this event (hex)' }) hash!: string;

  static from(event: AuditEventEntity): AuditEventResponseDto {
    return {
      ...event,
      occurredAt: event.occurredAt.toISOString(),
      prevHash: event.prevHash.toString('hex'),
      hash: event.hash.toString('hex'),
    };
  }
}

export class AuditEventPageResponseDto {
  @ApiProperty({ type: [AuditEventResponseDto] }) events!: AuditEventResponseDto[];
  @ApiPropertyOptional({ nullable: true, type: Number, description: 'Pass as `before` for the next (older) page; null at the end' })
  nextCursor!: number | null;
}
