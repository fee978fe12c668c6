import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { IsNotEmpty, IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';

export class StartTotpDto {
  @ApiPropertyOptional({ example: 'Phone', description: 'A name to tell this authenticator from others' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  label?: string;
}

export class StartedTotpResponseDto {
  @ApiProperty({ description: 'The pending method; confirm it with a code' }) id!: string;
  @ApiProperty({ description: 'The secret in base32, to type into an app by hand. Shown once.' }) secret!: string;
  @ApiProperty({ example: 'otpauth://totp/Rack%20Gateway:ada%40example.com?issuer=Rack%20Gateway&secret=…' }) otpauth_uri!: string;
  @ApiProperty({ description: 'The otpauth URI as a QR code (an SVG data URL)' }) qr_code!: string;
}

export class ConfirmTotpDto {
  @ApiProperty({ example: '123456', description: 'The code the authenticator shows now' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be the six digits the authenticator shows' })
  code!: string;
}

export class RegisterWebAuthnDto {
  @ApiProperty({ description: 'challenge_id from the registration options' })
  @IsUUID()
  challenge_id!: string;

  @ApiProperty({ type: Object, description: "The browser's PublicKeyCredential as JSON (navigator.credentials.create)" })
  @IsObject()
  response!: RegistrationResponseJSON;

  @ApiPropertyOptional({ example: 'YubiKey 5' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  label?: string;
}

export class RenameMfaMethodDto {
  @ApiProperty({ example: 'Work phone' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  label!: string;
}
