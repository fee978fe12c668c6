import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { APP_SCOPE_PATTERN } from '../../rbac/app-scope';
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

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    example: ['api', 'staging-*'],
    description: 'Apps the role applies to (names or * patterns); null or absent for every app. Not for admins.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(APP_SCOPE_PATTERN, { each: true, message: 'appScopes must be app names or patterns with *' })
  appScopes?: string[] | null;
}
