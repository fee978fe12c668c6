import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsEmail, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { APP_SCOPE_PATTERN } from '../../rbac/app-scope';
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
