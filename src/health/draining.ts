import { Injectable } from '@nestjs/common';

/**
 * Whether this instance is shutting down. Once it is, readiness fails, so the load balancer stops
 * sending new requests while those in flight finish; then the application closes (main.ts).
 */
@Injectable()
export class Draining {
  private since: Date | undefined;

  get active(): boolean {
    return this.since !== undefined;
  }

  start(): void {
    this.since ??= new Date();
  }
}
