import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { AppScopesProperty } from '../../rbac/decorators/app-scopes-property.decorator';
import { USER_ROLES, UserRole } from '../user.entity';

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: USER_ROLES })
  @IsOptional()
  @IsIn(USER_ROLES)
  role?: UserRole;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'A disabled user loses every session and token on its next request.' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @AppScopesProperty('Apps the role applies to (names or * patterns); null for every app. Not for admins.')
  appScopes?: string[] | null;
}
