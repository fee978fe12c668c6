import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Public } from '../auth/decorators/public.decorator';

/** Read once at start: `npm run build` copies them beside the compiled code. */
const readAsset = (name: string): Buffer => readFileSync(join(__dirname, 'assets', name));

/**
 * The pages' stylesheet and their one script, served by the gateway itself: their CSP admits no inline
 * code and no other origin. Public (they hold nothing of anyone's), and never cached, like the pages.
 */
@ApiExcludeController()
@Controller('ui/assets')
export class UiAssetsController {
  private readonly stylesheet = readAsset('ui.css');
  private readonly script = readAsset('mfa.js');

  @Get('ui.css')
  @Public()
  @Header('content-type', 'text/css; charset=utf-8')
  getStylesheet(): Buffer {
    return this.stylesheet;
  }

  @Get('mfa.js')
  @Public()
  @Header('content-type', 'text/javascript; charset=utf-8')
  getMfaScript(): Buffer {
    return this.script;
  }
}
