import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
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
}
