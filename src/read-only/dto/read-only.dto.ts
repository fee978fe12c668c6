import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { ReadOnlyState } from '../read-only-mode';

export class SetReadOnlyDto {
  @ApiProperty({ description: 'true refuses every change to the rack until set back to false' })
  @IsBoolean()
  enabled!: boolean;

  @ApiPropertyOptional({ example: 'rack upgrade in progress', description: 'Shown to nobody but admins and the audit trail' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  reason?: string;
}

export class ReadOnlyStateResponseDto {
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ enum: ['environment', 'setting'], nullable: true, type: String }) source!: string | null;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: String }) changedBy!: string | null;
  @ApiProperty({ nullable: true, type: String }) changedAt!: string | null;

  static from(state: ReadOnlyState): ReadOnlyStateResponseDto {
    return {
      enabled: state.active,
      source: state.source,
      reason: state.reason,
      changedBy: state.changedBy,
      changedAt: state.changedAt?.toISOString() ?? null,
    };
  }
}
