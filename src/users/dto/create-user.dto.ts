import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { AppScopesProperty } from '../../rbac/decorators/app-scopes-property.decorator';
import { USER_ROLES, UserRole } from '../user.entity';

export class CreateUserDto {
  @ApiProperty({ example: 'dev@example.com' })
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ enum: USER_ROLES })
  @IsIn(USER_ROLES)
  role!: UserRole;

  @ApiPropertyOptional({ example: 'Dana Developer' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  name?: string;

  @AppScopesProperty('Apps the role applies to (names or * patterns); null or absent for every app. Not for admins.')
  appScopes?: string[] | null;
}
