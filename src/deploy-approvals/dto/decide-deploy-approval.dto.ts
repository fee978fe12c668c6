import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class DecideDeployApprovalDto {
  @ApiPropertyOptional({ description: 'Why, for the record and the requester', example: 'Checked the diff with Ana' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;
}
