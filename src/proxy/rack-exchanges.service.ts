import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Subject } from 'rxjs';
import type { Principal } from '../auth/principal';
import { RequestAuthenticator } from '../auth/request-authenticator.service';
import { RackAuthorizer, type AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { type AccessChange, AccessChanges } from '../users/access-changes.service';
import { UsersService } from '../users/users.service';
import { HttpExchange, type RackExchange, type RackExchangeOutcome, WebsocketExchange } from './rack-exchange';

/**
 * Every forwarded exchange with the rack, from the moment it is forwarded until either end closes. It
 * publishes how each one ended (`outcomes`, for the audit trail and metrics) and keeps live ones
 * honest: when anyone's access changes on any instance, the live exchanges it touches are checked
 * again, exactly as a new request would be, and cut when no longer allowed.
 */
@Injectable()
export class RackExchanges implements OnModuleDestroy {
  private readonly logger = new Logger(RackExchanges.name);
  private readonly live = new Set<RackExchange>();
  private readonly subject = new Subject<RackExchangeOutcome>();
  readonly outcomes = this.subject.asObservable();
  private changeAnswerRecorder: ((outcome: RackExchangeOutcome) => Promise<void>) | undefined;

  constructor(
    private readonly authenticator: RequestAuthenticator,
    private readonly authorizer: RackAuthorizer,
    private readonly users: UsersService,
    accessChanges: AccessChanges,
  ) {
    accessChanges.onChange((change) => this.recheck(change));
  }

  /** Whether anyone reads outcomes: counting bytes costs a listener per stream, so it waits for a reader. */
  get reporting(): boolean {
    return this.subject.observed;
  }

  /**
   * Who records a change's outcome before its answer is complete (the audit trail). The last bytes of
   * the answer to any HTTP request that is not a read wait for it, so a client never holds the answer
   * to a change whose outcome a crash of the gateway could still leave unrecorded.
   */
  recordChangeAnswersWith(recorder: (outcome: RackExchangeOutcome) => Promise<void>): void {
    this.changeAnswerRecorder = recorder;
  }

  /** Whether the answer to this request waits for its outcome to be recorded. */
  holdsAnswer(decision: AllowedRackRequest): boolean {
    return this.changeAnswerRecorder !== undefined && decision.route.action !== 'read';
  }

  /**
   * The answer is all sent but its last bytes: records the outcome it will have. Resolves once it is
   * recorded, or could not be (logged): the rack has done the change either way, so the answer goes out.
   */
  async answered(exchange: HttpExchange, request: IncomingMessage, status: number): Promise<void> {
    await this.changeAnswerRecorder?.(exchange.answeredOutcome(request, status)).catch((error: Error) => {
      this.logger.error(
        `the outcome of ${request.method} ${exchange.decision.target.path} was not recorded before its answer: ${error.message}`,
      );
    });
  }

  /** Websocket sessions (exec, logs, proxy…) open now, counted when asked: nothing is kept per session for it. */
  get openWebsockets(): number {
    let open = 0;
    for (const exchange of this.live) if (exchange instanceof WebsocketExchange) open += 1;
    return open;
  }

  openHttp(
    request: IncomingMessage,
    response: ServerResponse,
    principal: Principal,
    decision: AllowedRackRequest,
    credential?: string,
  ): HttpExchange {
    const exchange = new HttpExchange(principal, decision, credential, response);
    this.live.add(exchange);
    response.once('close', () => {
      this.live.delete(exchange);
      if (this.subject.observed) this.subject.next(exchange.outcome(request));
    });
    return exchange;
  }

  openWebsocket(
    request: IncomingMessage,
    socket: Duplex,
    principal: Principal,
    decision: AllowedRackRequest,
    credential?: string,
  ): WebsocketExchange {
    const exchange = new WebsocketExchange(principal, decision, credential, socket);
    this.live.add(exchange);
    socket.once('close', () => {
      this.live.delete(exchange);
      if (this.subject.observed) this.subject.next(exchange.outcome(request));
    });
    return exchange;
  }

  onModuleDestroy(): void {
    // Shutdown must finish: long log streams and exec sessions would otherwise hold the server open.
    // HTTP exchanges (an upload, a promote) are left to finish: the server's close waits for them.
    for (const exchange of this.live) {
      if (exchange instanceof WebsocketExchange) exchange.cut('the gateway is restarting; run the command again to reconnect', 1001);
    }
    this.subject.complete();
  }

  private recheck(change: AccessChange): void {
    for (const exchange of this.live) {
      if (!touches(change, exchange.principal)) continue;
      this.stillAllowed(exchange).then(
        (refusal) => {
          if (refusal) exchange.cut(refusal);
        },
        (error: Error) => {
          // Fail closed: access that cannot be confirmed is not assumed.
          this.logger.warn(`could not re-check a live rack exchange: ${error.message}`);
          exchange.cut('access could not be re-checked');
        },
      );
    }
  }

  /** Why the exchange may no longer go on, or undefined when it still may. */
  private async stillAllowed(exchange: RackExchange): Promise<string | undefined> {
    const result = await this.authenticator.fromAuthorization(exchange.credential);
    if (result.outcome !== 'authenticated') return this.whyCredentialFailed(exchange.principal);
    const { decision } = exchange;
    const again = this.authorizer.authorize(result.principal, decision.method, decision.target);
    return again.allowed ? undefined : again.reason;
  }

  private async whyCredentialFailed(principal: Principal): Promise<string> {
    const user = await this.users.findById(principal.user.id);
    if (!user) return 'access revoked: your user was deleted';
    if (user.disabled) return 'access revoked: your user was disabled';
    return 'access revoked: your token was revoked or has expired';
  }
}

function touches(change: AccessChange, principal: Principal): boolean {
  if ('tokenId' in change) return principal.kind === 'token' && principal.tokenId === change.tokenId;
  return change.userId === '*' || change.userId === principal.user.id;
}
