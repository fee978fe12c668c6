import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AuditVerificationResponseDto {
  @ApiProperty({ description: 'Every link holds, and the chain reaches its recorded head' })
  intact!: boolean;

  @ApiProperty({ description: 'Events checked and found sound, from the first (after the retention anchor, if any)' })
  events!: number;

  @ApiPropertyOptional({ description: 'Sequence number of the retention anchor the check started after, once older events were archived' })
  anchorSeq?: number;

  @ApiPropertyOptional({ description: 'HMAC of the newest event (hex), when intact' })
  headHash?: string;

  @ApiPropertyOptional({ description: 'Sequence number of the first link that does not hold' })
  brokenAt?: number;

  @ApiPropertyOptional({ example: 'event 42 was changed after it was written' })
  problem?: string;
}
