import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ACTIONS, type Action, GATEWAY_SUBJECTS, RACK_SUBJECTS, type Subject } from '../../rbac/permissions';
import { MAX_SEARCH_WORDS, SEARCH_PATTERN } from '../audit-search';

const SUBJECTS: readonly Subject[] = [...RACK_SUBJECTS, ...GATEWAY_SUBJECTS];

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

  @ApiPropertyOptional({ enum: ACTIONS, description: 'The permission a rack request needed: its action' })
  @IsOptional()
  @IsIn(ACTIONS)
  action?: Action;

  @ApiPropertyOptional({ enum: SUBJECTS, description: 'The permission a rack request needed: its subject', example: 'env' })
  @IsOptional()
  @IsIn(SUBJECTS)
  subject?: Subject;

  @ApiPropertyOptional({ example: 403 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  status?: number;

  @ApiPropertyOptional({ enum: ['allowed', 'denied'] })
  @IsOptional()
  @IsIn(['allowed', 'denied'])
  decision?: 'allowed' | 'denied';

  @ApiPropertyOptional({
    description: `Words, each of which must begin a word of the event's path, route, reason, actor, app or details (a command, env keys), at most ${MAX_SEARCH_WORDS}; punctuation separates words`,
    example: 'db:migrate',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(SEARCH_PATTERN, { message: `q must hold one to ${MAX_SEARCH_WORDS} words (letters and digits; anything else separates them)` })
  q?: string;

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
