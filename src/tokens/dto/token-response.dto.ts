import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ApiTokenEntity } from '../api-token.entity';

export class TokenResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The first characters of the token, to tell tokens apart', example: 'rgw_Xk3f9aQ2' })
  displayPrefix!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) role!: string | null;
  @ApiPropertyOptional({ nullable: true, type: [String] }) appScopes!: string[] | null;
  @ApiPropertyOptional({ nullable: true, type: String }) expiresAt!: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) lastUsedAt!: string | null;
  @ApiProperty() createdAt!: string;

  static from(token: ApiTokenEntity): TokenResponseDto {
    return {
      id: token.id,
      name: token.name,
      displayPrefix: token.displayPrefix,
      role: token.role,
      appScopes: token.appScopes,
      expiresAt: token.expiresAt?.toISOString() ?? null,
      lastUsedAt: token.lastUsedAt?.toISOString() ?? null,
      createdAt: token.createdAt.toISOString(),
    };
  }
}

export class CreatedTokenResponseDto extends TokenResponseDto {
  @ApiProperty({ description: 'The token itself. Shown once; only its hash is kept.' })
  token!: string;
}
