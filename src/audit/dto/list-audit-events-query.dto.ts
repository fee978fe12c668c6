import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export class ListAuditEventsQueryDto {
  @ApiPropertyOptional({ description: 'Whose events: an email, `*` for everyone (needs audit:read on all), yourself by default' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  actor?: string;

  @ApiPropertyOptional({ example: 'rack.intent' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  kind?: string;

  @ApiPropertyOptional({ example: 'myapp' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  app?: string;

  @ApiPropertyOptional({ example: 403 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  status?: number;

  @ApiPropertyOptional({ enum: ['allowed', 'denied'] })
  @IsOptional()
  @IsIn(['allowed', 'denied'])
  decision?: 'allowed' | 'denied';

  @ApiPropertyOptional({ description: 'Events at or after this instant' })
  @IsOptional()
  @IsDateString({ strict: true })
  since?: string;

  @ApiPropertyOptional({ description: 'Events before this instant' })
  @IsOptional()
  @IsDateString({ strict: true })
  until?: string;

  @ApiPropertyOptional({ description: 'The cursor of the previous page: events older than this sequence number' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  before?: number;

  @ApiPropertyOptional({ default: 100, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}
