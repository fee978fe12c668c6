import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { AppScopesProperty } from '../../rbac/decorators/app-scopes-property.decorator';
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

  @AppScopesProperty('Narrow the token to these apps (within your own)')
  appScopes?: string[];
}
