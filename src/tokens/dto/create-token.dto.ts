import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateTokenDto {
  @ApiProperty({ example: 'github-actions' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ description: 'ISO 8601 instant after which the token stops working', example: '2027-01-01T00:00:00Z' })
  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string;
}
