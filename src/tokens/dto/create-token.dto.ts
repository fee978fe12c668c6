import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsDateString, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { APP_SCOPE_PATTERN } from '../../rbac/app-scope';
import { ROLES, type Role } from '../../rbac/roles';

export class CreateTokenDto {
  @ApiProperty({ example: 'github-actions' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ description: 'ISO 8601 instant after which the token stops working', example: '2027-01-01T00:00:00Z' })
  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string;

  @ApiPropertyOptional({ enum: ROLES, description: 'Narrow the token to this role (never above your own)' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ type: [String], example: ['api', 'staging-*'], description: 'Narrow the token to these apps (within your own)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(APP_SCOPE_PATTERN, { each: true, message: 'appScopes must be app names or patterns with *' })
  appScopes?: string[];
}
