import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
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
import type { AuditRecord } from './audit-record';
import { apiRequest, mfaEvent, rackExchange, rackIntent, refusal, requestFacts } from './audit-records';
import { AuditTrail } from './audit-trail.service';
import { ReadAggregator } from './read-aggregator';

/**
 * Turns what happens to requests into audit records: mutating rack requests before they are
 * forwarded, every forwarded exchange's outcome (identical reads folded together), every refusal and
 * every answered call of the gateway's API, and what happens to second factors. Nothing secret is recorded: no query values, headers or
 * bodies, and an exec command with what looks secret in it masked.
 */
@Injectable()
export class AuditRecorder implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  /** The request id of a mutating request, so its outcome is recorded under the same id as its intent. */
  private readonly requestIds = new WeakMap<IncomingMessage, string>();
  /** Changes whose outcome was recorded before their answer was complete: not recorded again when they close. */
  private readonly answered = new WeakSet<IncomingMessage>();
  private readonly secretRule: SecretRule;
  private readonly reads: ReadAggregator;

  constructor(
    private readonly trail: AuditTrail,
    private readonly clientAddress: ClientAddress,
    private readonly exchanges: RackExchanges,
    private readonly refusals: RequestRefusals,
    private readonly mfaEvents: MfaEvents,
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
  ) {
    this.secretRule = new SecretRule(config.secrets.extraKeyPatterns);
    this.reads = new ReadAggregator(config.audit.aggregateReadsMs, (record) => this.trail.record(record));
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
    this.requestIds.set(request.raw, requestId);
    const facts = requestFacts(request.raw, requestId, request.principal, this.clientAddress.of(request.raw), request.method, decision);
    const command = request.headers.command;
    const details = {
      ...(typeof command === 'string' ? { command: maskSecretsInText(command, this.secretRule) } : {}),
      ...(request.secondFactor ? { secondFactor: request.secondFactor } : {}),
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
        requestFacts(request.raw, randomUUID(), request.principal, clientIp, request.method),
        route,
        status,
        durationMs,
        request.secondFactor,
      );
    // Reads of the API (health probes, a page's polling) fold like rack reads.
    if (request.method !== 'GET') {
      this.trail.record(record());
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
    return this.trail.recordDurably(this.exchangeRecord(outcome, this.clientAddress.of(outcome.request)));
  }

  private recordOutcome(outcome: RackExchangeOutcome): void {
    if (this.answered.has(outcome.request)) return;
    const clientIp = this.clientAddress.of(outcome.request);
    const record = () => this.exchangeRecord(outcome, clientIp);
    if (outcome.decision.route.action !== 'read') {
      // Written now rather than with the next batch; nobody waits for it (the trail logs a failure).
      this.trail.recordDurably(record()).catch(() => undefined);
      return;
    }
    if (outcome.transport !== 'http' || !outcome.completed || outcome.status >= 400) {
      this.trail.record(record());
      return;
    }
    const key = readKey(outcome.principal, clientIp, outcome.request, outcome.method, outcome.path, outcome.status);
    const sample = { bytesIn: outcome.bytesIn, bytesOut: outcome.bytesOut, durationMs: outcome.durationMs, at: new Date() };
    this.reads.add(key, sample, record);
  }

  private exchangeRecord(outcome: RackExchangeOutcome, clientIp: string): AuditRecord {
    const requestId = this.requestIds.get(outcome.request) ?? randomUUID();
    return rackExchange(
      requestFacts(outcome.request, requestId, outcome.principal, clientIp, outcome.method, outcome.decision),
      outcome,
      {},
    );
  }

  private recordRefusal({ request, status, reason }: RequestRefusal): void {
    const facts = requestFacts(
      request.raw,
      randomUUID(),
      request.principal,
      this.clientAddress.of(request.raw),
      request.method,
      request.rackDecision,
    );
    this.trail.record(refusal(facts, status, reason, request.rackDecision ?? request.rackRefusal));
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
