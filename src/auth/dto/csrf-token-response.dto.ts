import { ApiProperty } from '@nestjs/swagger';

export class CsrfTokenResponseDto {
  @ApiProperty({ description: 'Send back in X-CSRF-Token on cookie-authenticated POST, PATCH, PUT and DELETE' })
  token!: string;
}
