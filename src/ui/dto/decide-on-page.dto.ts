import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageFormDto } from './page-form.dto';

export class DecideOnPageDto extends PageFormDto {
  @IsIn(['approve', 'reject', 'extend'])
  decision!: 'approve' | 'reject' | 'extend';

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  note?: string;

  /** The decision's second factor, read by the MFA stage (it never reaches the handler's logic). */
  @IsString()
  @MaxLength(32)
  mfa_code!: string;
}
