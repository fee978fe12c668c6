import { IsString, MaxLength } from 'class-validator';
import { PageFormDto } from './page-form.dto';

export class VerifyCodeDto extends PageFormDto {
  /** A TOTP code or a backup code; which, its shape tells. */
  @IsString()
  @MaxLength(32)
  code!: string;
}
