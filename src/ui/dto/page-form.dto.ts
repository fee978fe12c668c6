import { IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * What every form of the pages posts besides its own fields: the session's CSRF token, in `_csrf`
 * where @fastify/csrf-protection looks for it (the CSRF guard has checked it by the time this is
 * validated), and where to go afterwards.
 */
export class PageFormDto {
  @IsString()
  _csrf!: string;

  @IsOptional()
  @IsString()
  @MaxLength(2048)
  return_to?: string;
}
