import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleInit,
  ServiceUnavailableException,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ClientAddress } from '../common/client-address';
import { type RequestRefusal, RequestRefusals } from '../common/errors/request-refusals';
import type { PipelineRequest } from '../common/pipeline-request';
import type { Principal } from '../auth/principal';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import type { RackExchangeOutcome } from '../proxy/rack-exchange';
import { RackExchanges } from '../proxy/rack-exchanges.service';
import type { AllowedRackRequest } from '../rbac/rack-authorizer.service';
import { SecretRule, maskSecretsInText } from '../secrets/secret-values';
import { MfaEvents } from '../mfa/mfa-events';
import type { SecondFactorUse } from '../mfa/mfa-levels';
import type { AuditRecord } from './audit-record';
import { apiRequest, mfaEvent, mfaState, rackExchange, rackIntent, rackRouteMfaLevel, refusal, requestFacts } from './audit-records';
import { AuditTrail } from './audit-trail.service';
import { ReadAggregator } from './read-aggregator';
import { requestLogLine } from './request-log';

/**
 * Turns what happens to requests into audit records: mutating rack requests before they are
 * forwarded, every forwarded exchange's outcome (identical reads folded together), every refusal and
 * every answered call of the gateway's API, and what happens to second factors. Nothing secret is recorded: no query values, headers or
 * bodies, and an exec command with what looks secret in it masked. Each event that ends a request is
 * also a JSON line of the process log (request-log.ts), made here from the record, so rack paths are
 * logged without a request logger on the hot path, and folded reads are one line as they are one event.
 */
@Injectable()
export class AuditRecorder implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  /** A mutating request's id and second factor, so its outcome is recorded under the same id and MFA state as its intent. */
  private readonly intents = new WeakMap<IncomingMessage, { readonly requestId: string; readonly secondFactor?: SecondFactorUse }>();
  /** Changes whose outcome was recorded before their answer was complete: not recorded again when they close. */
  private readonly answered = new WeakSet<IncomingMessage>();
  private readonly secretRule: SecretRule;
  private readonly reads: ReadAggregator;
  /** The app's logger (nestjs-pino, with its redaction), for the request log. */
  private readonly requestLog = new Logger('RequestLog');

  constructor(
    private readonly trail: AuditTrail,
    private readonly clientAddress: ClientAddress,
    private readonly exchanges: RackExchanges,
    private readonly refusals: RequestRefusals,
    private readonly mfaEvents: MfaEvents,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.secretRule = new SecretRule(config.secrets.extraKeyPatterns);
    this.reads = new ReadAggregator(config.audit.aggregateReadsMs, (record) => this.write(record));
  }

  onModuleInit(): void {
    this.exchanges.outcomes.subscribe((outcome) => this.recordOutcome(outcome));
    this.exchanges.recordChangeAnswersWith((outcome) => this.recordChangeAnswer(outcome));
    this.refusals.onRefusal((refused) => this.recordRefusal(refused));
    this.mfaEvents.subscribe((event) => this.trail.record(mfaEvent(event)));
  }

  /** The gateway, not an operator command sharing the chain module, takes over spools a stopped process left. */
  onApplicationBootstrap(): Promise<void> {
    return this.trail.recoverSpool();
  }

  get accepting(): boolean {
    return this.trail.accepting;
  }

  async commitIntent(request: PipelineRequest, decision: AllowedRackRequest): Promise<void> {
    const requestId = randomUUID();
    this.intents.set(request.raw, { requestId, secondFactor: request.secondFactor });
    const facts = requestFacts(request.raw, requestId, request.principal, this.clientAddress.of(request.raw), request.method, {
      decision,
      mfa: mfaState(request.principal, rackRouteMfaLevel(decision.route), request.secondFactor),
    });
    const command = request.headers.command;
    const details = {
      // What a rewrite of the body says of the change: the env keys a release adds, changes and removes.
      ...request.rackRewriteRecord,
      ...(typeof command === 'string' ? { command: maskSecretsInText(command, this.secretRule) } : {}),
      ...(request.deployApproval ? { deployApprovalId: request.deployApproval.id, deployStep: request.deployApproval.step } : {}),
    };
    try {
      await this.trail.commit(rackIntent(facts, decision, details));
    } catch {
      throw new ServiceUnavailableException({
        code: 'audit_unavailable',
        message: 'the audit trail cannot record this change right now, so it was not sent to the rack; try again shortly',
      });
    }
  }

  recordApiRequest(request: PipelineRequest, route: string, status: number, durationMs: number): void {
    const clientIp = this.clientAddress.of(request.raw);
    const record = () =>
      apiRequest(
        requestFacts(request.raw, randomUUID(), request.principal, clientIp, request.method, {
          mfa: mfaState(request.principal, request.mfaLevel, request.secondFactor),
        }),
        route,
        status,
        durationMs,
      );
    // Reads of the API (health probes, a page's polling) fold like rack reads.
    if (request.method !== 'GET') {
      this.write(record());
      return;
    }
    const key = readKey(request.principal, clientIp, request.raw, request.method, request.raw.url ?? '', status);
    this.reads.add(key, { bytesIn: 0, bytesOut: 0, durationMs, at: new Date() }, record);
  }

  /** Folded reads go to the trail before its last flush (AuditTrail.onApplicationShutdown). */
  beforeApplicationShutdown(): void {
    this.reads.flushAll();
  }

  /** A change's answer waits for this: once its outcome is committed or spooled, no crash can lose it. */
  private recordChangeAnswer(outcome: RackExchangeOutcome): Promise<void> {
    this.answered.add(outcome.request);
    return this.writeDurably(this.exchangeRecord(outcome, this.clientAddress.of(outcome.request)));
  }

  private recordOutcome(outcome: RackExchangeOutcome): void {
    if (this.answered.has(outcome.request)) return;
    const clientIp = this.clientAddress.of(outcome.request);
    const record = () => this.exchangeRecord(outcome, clientIp);
    if (outcome.decision.route.action !== 'read') {
      // Written now rather than with the next batch; nobody waits for it (the trail logs a failure).
      this.writeDurably(record()).catch(() => undefined);
      return;
    }
    if (outcome.transport !== 'http' || !outcome.completed || outcome.status >= 400) {
      this.write(record());
      return;
    }
    const key = readKey(outcome.principal, clientIp, outcome.request, outcome.method, outcome.path, outcome.status);
    const sample = { bytesIn: outcome.bytesIn, bytesOut: outcome.bytesOut, durationMs: outcome.durationMs, at: new Date() };
    this.reads.add(key, sample, record);
  }

  private exchangeRecord(outcome: RackExchangeOutcome, clientIp: string): AuditRecord {
    const intent = this.intents.get(outcome.request);
    const { decision, principal } = outcome;
    return rackExchange(
      requestFacts(outcome.request, intent?.requestId ?? randomUUID(), principal, clientIp, outcome.method, {
        decision,
        mfa: mfaState(principal, rackRouteMfaLevel(decision.route), intent?.secondFactor),
      }),
      outcome,
      {},
    );
  }

  private recordRefusal({ request, status, reason }: RequestRefusal): void {
    const matched = request.rackDecision ?? request.rackRefusal;
    // A rack route's level is known from the route alone; an API route's once the MFA stage met it.
    const level = matched?.route ? rackRouteMfaLevel(matched.route) : request.mfaLevel;
    const facts = requestFacts(request.raw, randomUUID(), request.principal, this.clientAddress.of(request.raw), request.method, {
      decision: request.rackDecision,
      mfa: mfaState(request.principal, level, request.secondFactor),
    });
    this.write(refusal(facts, status, reason, matched));
  }

  /** To the trail, and to the request log when it ends a request. */
  private write(record: AuditRecord): void {
    this.trail.record(record);
    this.log(record);
  }

  /** As `write`, resolving once the record is committed or spooled. */
  private writeDurably(record: AuditRecord): Promise<void> {
    this.log(record);
    return this.trail.recordDurably(record);
  }

  private log(record: AuditRecord): void {
    const line = requestLogLine(record);
    if (line) this.requestLog.log(line);
  }
}

/** Reads that fold together: the same caller, from the same address and client, for the same answer. */
function readKey(
  principal: Principal | undefined,
  clientIp: string,
  request: IncomingMessage,
  method: string,
  path: string,
  status: number,
): string {
  const caller = principal ? (principal.kind === 'token' ? principal.tokenId : principal.user.id) : '';
  return `${caller}|${clientIp}|${request.headers['user-agent'] ?? ''}|${method}|${path}|${status}`;
}
