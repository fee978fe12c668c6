import { ApiProperty } from '@nestjs/swagger';
import { UserResponseDto } from '../../users/dto/user-response.dto';

/** Where the caller stands with second factors, so a client can prompt before it is refused. */
export class SecondFactorStateDto {
  @ApiProperty({ description: 'This gateway requires every person to enrol' }) required!: boolean;
  @ApiProperty() enrolled!: boolean;
  @ApiProperty({ description: 'A browser sign-in still waiting for its second factor (always false for tokens)' })
  signInPending!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Step-up operations need no new second factor until then' })
  stepUpUntil!: string | null;
}

export class MeResponseDto {
  @ApiProperty({ type: UserResponseDto }) user!: UserResponseDto;
  @ApiProperty({ enum: ['session', 'token'] }) authenticatedBy!: 'session' | 'token';
  @ApiProperty({ type: SecondFactorStateDto }) secondFactor!: SecondFactorStateDto;
}
