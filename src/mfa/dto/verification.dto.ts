import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { IsObject, IsOptional, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';

/** One proof: a code (TOTP or backup), or a WebAuthn assertion answering a challenge. */
export class VerifyMfaDto {
  @ApiPropertyOptional({ example: '123456', description: 'A TOTP code, or a backup code' })
  @ValidateIf((dto: VerifyMfaDto) => dto.challenge_id === undefined)
  @IsString()
  @MaxLength(32)
  code?: string;

  @ApiPropertyOptional({ description: 'challenge_id from the assertion options, with response' })
  @IsOptional()
  @IsUUID()
  challenge_id?: string;

  @ApiPropertyOptional({ type: Object, description: "The browser's assertion as JSON (navigator.credentials.get)" })
  @ValidateIf((dto: VerifyMfaDto) => dto.challenge_id !== undefined)
  @IsObject()
  response?: AuthenticationResponseJSON;
}

export class WebAuthnOptionsResponseDto {
  @ApiProperty({ description: 'Send back with the response; the challenge itself stays on the server' }) challenge_id!: string;
  @ApiProperty({ type: Object, description: 'For navigator.credentials.create or get (JSON form)' }) options!: object;
}

export class VerifiedResponseDto {
  @ApiProperty({ enum: ['totp', 'backup-code', 'webauthn'] }) method!: string;
  @ApiProperty({ description: 'Step-up operations need no new second factor until then' }) step_up_until!: string;
}
