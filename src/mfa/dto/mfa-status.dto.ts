import { ApiProperty } from '@nestjs/swagger';
import type { MfaMethodEntity } from '../mfa-method.entity';

export class MfaMethodResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['totp', 'webauthn'] }) kind!: string;
  @ApiProperty() label!: string;
  @ApiProperty() created_at!: string;
  @ApiProperty({ type: String, nullable: true }) last_used_at!: string | null;

  static from(method: MfaMethodEntity): MfaMethodResponseDto {
    return {
      id: method.id,
      kind: method.kind,
      label: method.label,
      created_at: method.createdAt.toISOString(),
      last_used_at: method.lastUsedAt?.toISOString() ?? null,
    };
  }
}

export class EnrolledMethodResponseDto {
  @ApiProperty({ type: MfaMethodResponseDto }) method!: MfaMethodResponseDto;
  @ApiProperty({ type: [String], nullable: true, description: 'With a first method only: ten single-use codes, shown this once' })
  backup_codes!: string[] | null;
  @ApiProperty({ description: 'Adding a method verified it: step-up operations need no new second factor until then' })
  step_up_until!: string;
}

export class BackupCodesResponseDto {
  @ApiProperty({ type: [String], description: 'Ten single-use codes replacing all earlier ones, shown this once' }) backup_codes!: string[];
}

export class MfaStatusResponseDto {
  @ApiProperty({ description: 'Whether the caller has a confirmed second factor' }) enrolled!: boolean;
  @ApiProperty({ description: 'Whether this gateway requires every person to enrol' }) required!: boolean;
  @ApiProperty({ type: [MfaMethodResponseDto] }) methods!: MfaMethodResponseDto[];
  @ApiProperty() backup_codes_remaining!: number;
  @ApiProperty({ type: String, nullable: true, description: "The calling credential's step-up window" }) step_up_until!: string | null;
}

export class MfaRequirementResponseDto {
  @ApiProperty({ example: 'exec:create' }) permission!: string;
  @ApiProperty({ enum: ['step-up', 'always'] }) level!: string;
}

export class RackRouteRequirementResponseDto {
  @ApiProperty({ example: 'SOCKET' }) method!: string;
  @ApiProperty({ example: '/apps/{app}/processes/{pid}/exec' }) path!: string;
  @ApiProperty({ example: 'exec:create' }) permission!: string;
  @ApiProperty({ enum: ['step-up', 'always'] }) level!: string;
}

export class MfaRequirementsResponseDto {
  @ApiProperty() step_up_window_seconds!: number;
  @ApiProperty() enrollment_required!: boolean;
  @ApiProperty({ type: [MfaRequirementResponseDto], description: 'Permissions not listed need no second factor' })
  permissions!: MfaRequirementResponseDto[];
  @ApiProperty({ type: [RackRouteRequirementResponseDto], description: 'The rack routes that need one, from the route table' })
  rack_routes!: RackRouteRequirementResponseDto[];
}
