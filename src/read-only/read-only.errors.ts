import { ServiceUnavailableException } from '@nestjs/common';

/** A 503, not a 403: the caller may make this change, just not now; the convox CLI prints the message. */
export class ReadOnlyModeError extends ServiceUnavailableException {
  constructor() {
    super({
      code: 'read_only',
      message: 'the gateway is in read-only mode: changes to the rack are refused until an operator turns it off; reads still work',
    });
  }
}
