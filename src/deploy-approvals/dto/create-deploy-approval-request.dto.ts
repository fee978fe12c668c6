import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { APP_NAME } from '../../rbac/app-scope';

export class CreateDeployApprovalRequestDto {
  @ApiProperty({ example: 'myapp' })
  @Matches(APP_NAME, { message: 'app must be a Convox app name' })
  app!: string;

  @ApiProperty({ description: 'The commit to deploy: 7 to 40 hex digits', example: '3f2c9e1a7b4d5e6f8091a2b3c4d5e6f708192a3b' })
  @Matches(/^[0-9a-fA-F]{7,40}$/, { message: 'gitCommit must be 7 to 40 hex digits' })
  gitCommit!: string;

  @ApiPropertyOptional({ example: 'main' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  gitBranch?: string;

  @ApiPropertyOptional({ description: 'What is being deployed, for the approver', example: 'Fix checkout totals' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  message?: string;

  @ApiPropertyOptional({ description: 'Free JSON from CI, shown to approvers', example: { buildUrl: 'https://ci.example.com/builds/42' } })
  @IsOptional()
  @IsObject()
  ciMetadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'The CI token the approval is for; the calling token by default. People name one of their own tokens.',
    format: 'uuid',
  })
  @IsOptional()
  @IsUUID()
  tokenId?: string;
}
