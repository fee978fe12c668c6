import { IsString, IsUUID, MaxLength } from 'class-validator';
import { PageFormDto } from './page-form.dto';

export class ConfirmAuthenticatorDto extends PageFormDto {
  /** The pending authenticator the page showed. */
  @IsUUID()
  id!: string;

  /** Checked against the authenticator, which refuses anything but its current code: a mistyped code shows the form again. */
  @IsString()
  @MaxLength(32)
  code!: string;
}
