import { Global, Injectable, Module } from '@nestjs/common';

/**
 * The time as the gateway decides it. Injected instead of calling `new Date()` where a decision
 * depends on time passing (session expiry), so tests move time instead of sleeping.
 */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** Global, so any module may inject `Clock` without importing this module or forming a cycle. */
@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }],
  exports: [Clock],
})
export class ClockModule {}
