import { ApiProperty } from '@nestjs/swagger';
import { USER_ROLES, UserEntity, UserRole } from '../user.entity';

export class UserResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: USER_ROLES }) role!: UserRole;
  @ApiProperty({ type: [String], nullable: true, description: 'Apps the role applies to; null for every app' }) appScopes!: string[] | null;
  @ApiProperty() disabled!: boolean;
  @ApiProperty({ description: 'Has a confirmed second factor' }) mfaEnrolled!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Locked out (failed second factors) until then, unless unlocked' })
  lockedUntil!: string | null;
  @ApiProperty({ type: String, nullable: true }) lockedReason!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;

  static from(user: UserEntity): UserResponseDto {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      appScopes: user.appScopes,
      disabled: user.disabled,
      mfaEnrolled: user.mfaEnrolledAt !== null,
      lockedUntil: user.lockedUntil?.toISOString() ?? null,
      lockedReason: user.lockedReason,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
    };
  }
}
