import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { APP_NAME } from '../../rbac/app-scope';
import { DEPLOY_APPROVAL_STATUSES, type DeployApprovalStatus } from '../deploy-approval-request.entity';

export class ListDeployApprovalsQuery {
  @ApiPropertyOptional({ enum: DEPLOY_APPROVAL_STATUSES })
  @IsOptional()
  @IsIn(DEPLOY_APPROVAL_STATUSES)
  status?: DeployApprovalStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(APP_NAME, { message: 'app must be a Convox app name' })
  app?: string;

  @ApiPropertyOptional({ description: 'A commit, or a prefix of one (at least 7 hex digits)' })
  @IsOptional()
  @Matches(/^[0-9a-fA-F]{7,40}$/, { message: 'commit must be 7 to 40 hex digits' })
  commit?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/)
  cursor?: string;
}

export class WaitForDecisionQuery {
  @ApiPropertyOptional({ description: 'How long to wait for a decision, in seconds', minimum: 1, maximum: 60, default: 30 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(60)
  timeout?: number;
}
