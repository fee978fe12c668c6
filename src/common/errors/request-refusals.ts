import { Global, Injectable, Logger, Module } from '@nestjs/common';
import type { PipelineRequest } from '../pipeline-request';

/** A request the gateway answered with an error of its own, before or instead of the rack. */
export interface RequestRefusal {
  readonly request: PipelineRequest;
  readonly status: number;
  /** The message the client was given. */
  readonly reason: string;
}

type RefusalListener = (refusal: RequestRefusal) => void;

/**
 * Where every refusal is told, HTTP (the exception filter) and websocket (the upgrade handler) alike,
 * so the audit trail records denials without the stages that refuse knowing of it.
 */
@Injectable()
export class RequestRefusals {
  private readonly logger = new Logger(RequestRefusals.name);
  private readonly listeners = new Set<RefusalListener>();

  onRefusal(listener: RefusalListener): void {
    this.listeners.add(listener);
  }

  report(refusal: RequestRefusal): void {
    for (const listener of this.listeners) {
      try {
        listener(refusal);
      } catch (error) {
        this.logger.error(`a refusal listener failed: ${(error as Error).stack ?? String(error)}`);
      }
    }
  }
}

/** Global, like the clock: the exception filter and the proxy report here, the audit module listens. */
@Global()
@Module({ providers: [RequestRefusals], exports: [RequestRefusals] })
export class RequestRefusalsModule {}
