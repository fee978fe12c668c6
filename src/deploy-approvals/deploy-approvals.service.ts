import { BadGatewayException, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, type EntityManager, In } from 'typeorm';
import type { Principal } from '../auth/principal';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { RackClient } from '../rack/rack-client';
import { AbilityFactory } from '../rbac/ability.factory';
import { PermissionDeniedError } from '../rbac/rbac.errors';
import { TokensService } from '../tokens/tokens.service';
import { TokenNotFoundError } from '../tokens/tokens.errors';
import { UsersService } from '../users/users.service';
import { DeployApprovalDecisionEntity, DeployApprovalRequestEntity, type DeployDecision } from './deploy-approval-request.entity';
import { DeployApprovalNotices } from './deploy-approval-notices';
import { DeploySteps } from './deploy-steps.service';
import {
  DeployApprovalExistsError,
  DeployApprovalNotFoundError,
  DeployApprovalStateError,
  InvalidDeployApprovalError,
  SeparationOfDutiesError,
} from './deploy-approvals.errors';
import type { CreateDeployApprovalRequestDto } from './dto/create-deploy-approval-request.dto';
import type { DeployApprovalAuditEventDto, DeployApprovalPageDto, DeployApprovalResponseDto } from './dto/deploy-approval-response.dto';
import type { ListDeployApprovalsQuery } from './dto/list-deploy-approvals.query';

/** How often each instance marks overdue requests expired (and announces it); use-time checks do not wait for it. */
const EXPIRY_SWEEP_MS = 15_000;
/** Someone who is never the caller: a grant that passes for them is a grant on everyone's requests. */
const SOMEONE_ELSE = '00000000-0000-0000-0000-000000000000';
/** How often a long-poll looks at its request again. */
const WAIT_POLL_MS = 500;
/**
 * A step still in flight this long after its approval's window closed was abandoned: the gateway
 * that forwarded it died before the rack answered. Its request then expires (a promote that reached
 * the rack is recorded as deployed first), so the token may ask again for the same commit.
 */
const ABANDONED_STEP_MS = 60 * 60_000;

/**
 * Deploy approval requests from ask to decision: CI (or a person, for their CI token) asks to deploy
 * one commit of one app; people approve or reject, never their own request or token; an app's policy
 * may want several approvers. Every change and its notice commit together.
 */
@Injectable()
export class DeployApprovals implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeployApprovals.name);
  private sweep?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly tokens: TokensService,
    private readonly users: UsersService,
    private readonly abilities: AbilityFactory,
    private readonly rack: RackClient,
    private readonly notices: DeployApprovalNotices,
    private readonly steps: DeploySteps,
    private readonly clock: Clock,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.sweep = setInterval(() => {
      this.expireOverdue().catch((error: Error) => this.logger.warn(`expiring overdue deploy approvals failed: ${error.message}`));
    }, EXPIRY_SWEEP_MS);
    this.sweep.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweep);
  }

  async request(principal: Principal, input: CreateDeployApprovalRequestDto): Promise<DeployApprovalResponseDto> {
    const app = input.app;
    const tokenId = input.tokenId ?? (principal.kind === 'token' ? principal.tokenId : undefined);
    if (!tokenId) throw new InvalidDeployApprovalError('token_id_required', 'name the CI token the approval is for (tokenId)');
    const now = this.clock.now();
    const target = await this.tokens.findLive(tokenId, now);
    if (!target) throw new TokenNotFoundError(tokenId);
    const ownToken = principal.kind === 'token' && principal.tokenId === tokenId;
    if (!ownToken && target.user.id !== principal.user.id && !this.abilities.forPrincipal(principal).can('approve', 'deploy-approvals')) {
      throw new PermissionDeniedError('you may ask for approvals only for your own tokens');
    }
    const targetAbility = this.abilities.forPrincipal({ kind: 'token', ...target });
    if (targetAbility.can('promote', 'releases', { app })) {
      throw new InvalidDeployApprovalError('approval_not_needed', `token ${tokenId} deploys ${app} without approvals`);
    }
    if (!targetAbility.canUnderApproval('promote', 'releases', { app })) {
      throw new PermissionDeniedError(`token ${tokenId} may not deploy app ${app}, approved or not`);
    }
    await this.assertAppExists(app, principal.user.email);

    const policy = this.config.deployApprovals.policies[app] ?? this.config.deployApprovals.policies['*'];
    const requested = await this.dataSource.transaction(async (manager) => {
      await this.expire(manager, { targetTokenId: tokenId, app });
      const [row] = await manager.query<Array<{ id: string }>>(
        `INSERT INTO deploy_approval_requests
           (app, git_commit, git_branch, message, ci_metadata, requested_by_user_id, requested_by_token_id, target_token_id,
            target_token_owner_id, approvals_required, pending_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (target_token_id, app, git_commit) WHERE status IN ('pending', 'approved') DO NOTHING
         RETURNING id`,
        [
          app,
          input.gitCommit.toLowerCase(),
          input.gitBranch ?? null,
          input.message ?? null,
          input.ciMetadata ?? null,
          principal.user.id,
          principal.kind === 'token' ? principal.tokenId : null,
          tokenId,
          target.user.id,
          policy.approvers,
          new Date(now.getTime() + this.config.deployApprovals.pendingMs),
        ],
      );
      if (!row) return undefined;
      const created = await manager.findOneByOrFail(DeployApprovalRequestEntity, { id: row.id });
      await this.notices.requested(created, principal.user.email, manager);
      return created;
    });
    if (!requested) {
      const existing = await this.dataSource.getRepository(DeployApprovalRequestEntity).findOneByOrFail({
        targetTokenId: tokenId,
        app,
        gitCommit: input.gitCommit.toLowerCase(),
        status: In(['pending', 'approved']),
      });
      throw new DeployApprovalExistsError(await this.describe(existing));
    }
    return this.describe(requested);
  }

  async get(id: string): Promise<DeployApprovalRequestEntity> {
    const found = await this.dataSource.getRepository(DeployApprovalRequestEntity).findOneBy({ id });
    if (!found) throw new DeployApprovalNotFoundError(id);
    return found;
  }

  /** A page of requests, newest first: everyone's for whoever may read them all, else those the caller asked for or whose token is theirs. */
  listFor(principal: Principal, query: ListDeployApprovalsQuery): Promise<DeployApprovalPageDto> {
    const readsAll = this.abilities.forPrincipal(principal).can('read', 'deploy-approvals', { userId: SOMEONE_ELSE });
    return this.list(query, readsAll ? undefined : principal.user.id);
  }

  /** Whether this person may approve, reject or extend the request: an approver who neither asked nor owns the token. */
  mayDecide(principal: Principal, request: DeployApprovalRequestEntity): boolean {
    return this.abilities.forPrincipal(principal).can('approve', 'deploy-approvals') && conflictOfDuties(request, principal) === undefined;
  }

  private async list(query: ListDeployApprovalsQuery, involving?: string): Promise<DeployApprovalPageDto> {
    const limit = query.limit ?? 50;
    const builder = this.dataSource
      .getRepository(DeployApprovalRequestEntity)
      .createQueryBuilder('request')
      .orderBy('request.created_at', 'DESC')
      .addOrderBy('request.id', 'DESC')
      .limit(limit + 1);
    if (involving) {
      builder.andWhere('(request.requested_by_user_id = :involving OR request.target_token_owner_id = :involving)', { involving });
    }
    if (query.app) builder.andWhere('request.app = :app', { app: query.app });
    if (query.commit) builder.andWhere('request.git_commit LIKE :commit', { commit: `${query.commit.toLowerCase()}%` });
    if (query.status) this.whereEffectiveStatus(builder, query.status);
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor);
      builder.andWhere('(request.created_at, request.id) < (:createdAt, :id)', { createdAt, id });
    }
    const rows = await builder.getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: await Promise.all(page.map((row) => this.describe(row))),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  async decide(id: string, approver: Principal, decision: DeployDecision, note: string | undefined): Promise<DeployApprovalResponseDto> {
    const decided = await this.dataSource.transaction(async (manager) => {
      const request = await this.lockOpen(manager, id, decision === 'approve' ? ['pending'] : ['pending', 'approved']);
      assertSeparateDuties(request, approver, decision === 'approve' ? 'approve' : 'reject');
      const now = this.clock.now();
      const [inserted] = await manager.query<Array<{ user_id: string }>>(
        `INSERT INTO deploy_approval_decisions (request_id, user_id, decision, note, decided_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (request_id, user_id) DO NOTHING RETURNING user_id`,
        [id, approver.user.id, decision, note ?? null, now],
      );
      if (!inserted) throw new DeployApprovalStateError(`you have already decided on request ${id}`);
      if (decision === 'reject') {
        await manager.update(DeployApprovalRequestEntity, { id }, { status: 'rejected', decidedAt: now });
      } else {
        const approvals = await manager.countBy(DeployApprovalDecisionEntity, { requestId: id, decision: 'approve' });
        if (approvals >= request.approvalsRequired) {
          await manager.update(
            DeployApprovalRequestEntity,
            { id },
            {
              status: 'approved',
              progress: 'approved',
              approvedAt: now,
              decidedAt: now,
              approvalExpiresAt: new Date(now.getTime() + this.config.deployApprovals.windowMs),
            },
          );
        }
      }
      const updated = await manager.findOneByOrFail(DeployApprovalRequestEntity, { id });
      await this.notices.decided(updated, approver.user.email, decision, note ?? null, manager);
      return updated;
    });
    return this.describe(decided);
  }

  /** Gives an approved deploy a fresh window from now. */
  async extend(id: string, approver: Principal): Promise<DeployApprovalResponseDto> {
    const extended = await this.dataSource.transaction(async (manager) => {
      const request = await this.lockOpen(manager, id, ['approved']);
      assertSeparateDuties(request, approver, 'extend');
      const until = new Date(this.clock.now().getTime() + this.config.deployApprovals.windowMs);
      await manager.update(DeployApprovalRequestEntity, { id }, { approvalExpiresAt: until });
      return manager.findOneByOrFail(DeployApprovalRequestEntity, { id });
    });
    return this.describe(extended);
  }

  /** Answers once the request is decided (or ended), or when `timeoutMs` passes, with the request as it stands. */
  async waitForDecision(id: string, timeoutMs: number, cancelled: () => boolean): Promise<DeployApprovalResponseDto> {
    const deadline = Date.now() + timeoutMs;
    let request = await this.get(id);
    while (effectiveStatus(request, this.clock.now()) === 'pending' && Date.now() < deadline && !cancelled()) {
      await sleep(Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
      request = await this.get(id);
    }
    return this.describe(request);
  }

  /** The audit events recorded under a request: its deploy's rack requests and outcomes, and calls on the request itself. */
  async auditEvents(id: string): Promise<DeployApprovalAuditEventDto[]> {
    const rows = await this.dataSource.query<Array<Record<string, unknown>>>(
      `SELECT seq, occurred_at, kind, actor_email, method, path, decision, status, reason FROM audit_events
        WHERE details->>'deployApprovalId' = $1
           OR request_id IN (SELECT request_id FROM audit_events WHERE details->>'deployApprovalId' = $1 AND request_id IS NOT NULL)
           OR path LIKE $2
        ORDER BY seq LIMIT 1000`,
      [id, `/api/v1/deploy-approval-requests/${id}%`],
    );
    return rows.map((row) => ({
      seq: Number(row.seq),
      occurredAt: new Date(row.occurred_at as string).toISOString(),
      kind: row.kind as string,
      actor: (row.actor_email as string | null) ?? null,
      method: (row.method as string | null) ?? null,
      path: (row.path as string | null) ?? null,
      decision: row.decision as 'allowed' | 'denied',
      status: row.status === null ? null : Number(row.status),
      reason: (row.reason as string | null) ?? null,
    }));
  }

  /** Marks every overdue request expired and announces each, once across instances (the UPDATE decides who). */
  async expireOverdue(): Promise<number> {
    await this.steps.settleAbandonedPromotes(new Date(this.clock.now().getTime() - ABANDONED_STEP_MS));
    return this.dataSource.transaction((manager) => this.expire(manager, {}));
  }

  async describe(request: DeployApprovalRequestEntity): Promise<DeployApprovalResponseDto> {
    const decisions = await this.dataSource
      .getRepository(DeployApprovalDecisionEntity)
      .find({ where: { requestId: request.id }, order: { decidedAt: 'ASC' } });
    const emails = new Map<string, string>();
    for (const userId of new Set([request.requestedByUserId, request.targetTokenOwnerId, ...decisions.map((d) => d.userId)])) {
      emails.set(userId, (await this.users.findById(userId))?.email ?? userId);
    }
    return {
      id: request.id,
      app: request.app,
      gitCommit: request.gitCommit,
      gitBranch: request.gitBranch,
      message: request.message,
      ciMetadata: request.ciMetadata,
      status: effectiveStatus(request, this.clock.now()),
      progress: request.progress,
      requestedBy: emails.get(request.requestedByUserId) ?? '',
      tokenId: request.targetTokenId,
      tokenOwner: emails.get(request.targetTokenOwnerId) ?? '',
      approvalsRequired: request.approvalsRequired,
      decisions: decisions.map((decision) => ({
        by: emails.get(decision.userId) ?? '',
        decision: decision.decision,
        note: decision.note,
        decidedAt: decision.decidedAt.toISOString(),
      })),
      createdAt: request.createdAt.toISOString(),
      pendingExpiresAt: request.pendingExpiresAt.toISOString(),
      approvedAt: request.approvedAt?.toISOString() ?? null,
      approvalExpiresAt: request.approvalExpiresAt?.toISOString() ?? null,
      objectUrl: request.objectKey ? `object://${request.app}/${request.objectKey}` : null,
      buildId: request.buildId,
      releaseId: request.releaseId,
      deployedAt: request.deployedAt?.toISOString() ?? null,
    };
  }

  private async lockOpen(manager: EntityManager, id: string, allowed: readonly string[]): Promise<DeployApprovalRequestEntity> {
    await this.expire(manager, { id });
    const request = await manager.findOne(DeployApprovalRequestEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!request) throw new DeployApprovalNotFoundError(id);
    if (!allowed.includes(request.status)) throw new DeployApprovalStateError(`request ${id} is ${request.status}`);
    return request;
  }

  /**
   * Expires the overdue open requests among those named: pending ones past their wait, approved ones
   * past their window with no step in flight. A deploy that is mid-step finishes that step, unless
   * the step was abandoned (ABANDONED_STEP_MS).
   */
  private async expire(manager: EntityManager, among: { id?: string; targetTokenId?: string; app?: string }): Promise<number> {
    const conditions = ['TRUE'];
    const now = this.clock.now();
    const parameters: unknown[] = [now, new Date(now.getTime() - ABANDONED_STEP_MS)];
    for (const [column, value] of [
      ['id', among.id],
      ['target_token_id', among.targetTokenId],
      ['app', among.app],
    ] as const) {
      if (value === undefined) continue;
      parameters.push(value);
      conditions.push(`${column} = $${parameters.length}`);
    }
    const [rows] = await manager.query<[Array<Record<string, unknown>>, number]>(
      `UPDATE deploy_approval_requests SET status = 'expired', decided_at = $1
        WHERE ${conditions.join(' AND ')}
          AND ((status = 'pending' AND pending_expires_at <= $1)
            OR (status = 'approved' AND approval_expires_at <= $1
                AND (progress NOT IN ('uploading', 'building', 'promoting') OR approval_expires_at <= $2)))
        RETURNING *`,
      parameters,
    );
    for (const row of rows) {
      await this.notices.expired(manager.create(DeployApprovalRequestEntity, fromRow(row)), manager);
    }
    return rows.length;
  }

  private async assertAppExists(app: string, actor: string): Promise<void> {
    const answer = await this.rack.get(`/apps/${encodeURIComponent(app)}`, actor).catch(() => undefined);
    if (answer?.status === 404) throw new InvalidDeployApprovalError('app_not_found', `the rack has no app named ${app}`);
    if (answer?.status !== 200)
      throw new BadGatewayException({ code: 'rack_unavailable', message: `could not ask the rack about app ${app}` });
  }

  private whereEffectiveStatus(builder: ReturnType<DataSource['createQueryBuilder']>, status: string): void {
    const now = this.clock.now();
    if (status === 'pending') builder.andWhere(`request.status = 'pending' AND request.pending_expires_at > :now`, { now });
    else if (status === 'approved') builder.andWhere(`request.status = 'approved' AND request.approval_expires_at > :now`, { now });
    else if (status === 'expired') {
      builder.andWhere(
        `(request.status = 'expired' OR (request.status = 'pending' AND request.pending_expires_at <= :now)
          OR (request.status = 'approved' AND request.approval_expires_at <= :now))`,
        { now },
      );
    } else builder.andWhere('request.status = :status', { status });
  }
}

/** What a listing shows: a request past its deadline reads expired before the sweep marks it so. */
export function effectiveStatus(request: DeployApprovalRequestEntity, now: Date): DeployApprovalRequestEntity['status'] {
  if (request.status === 'pending' && request.pendingExpiresAt <= now) return 'expired';
  if (request.status === 'approved' && request.approvalExpiresAt !== null && request.approvalExpiresAt <= now) return 'expired';
  return request.status;
}

/** Whoever asked, and whoever owns the token, never decides: a second person always does. */
function conflictOfDuties(request: DeployApprovalRequestEntity, approver: Principal): 'requester' | 'token owner' | undefined {
  if (approver.user.id === request.requestedByUserId) return 'requester';
  if (approver.user.id === request.targetTokenOwnerId) return 'token owner';
  return undefined;
}

function assertSeparateDuties(request: DeployApprovalRequestEntity, approver: Principal, what: string): void {
  switch (conflictOfDuties(request, approver)) {
    case 'requester':
      throw new SeparationOfDutiesError(`you asked for request ${request.id}; someone else must ${what} it`);
    case 'token owner':
      throw new SeparationOfDutiesError(`request ${request.id} is for your own token; someone else must ${what} it`);
  }
}

function encodeCursor(request: DeployApprovalRequestEntity): string {
  return Buffer.from(`${request.createdAt.toISOString()}|${request.id}`).toString('base64url');
}

function decodeCursor(cursor: string): [Date, string] {
  const [createdAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(createdAt ?? '');
  if (Number.isNaN(date.getTime()) || !/^[0-9a-f-]{36}$/.test(id ?? '')) {
    throw new InvalidDeployApprovalError('invalid_cursor', 'cursor is not one this API gave out');
  }
  return [date, id];
}

/** A row RETURNING * gave, in the entity's shape. */
function fromRow(row: Record<string, unknown>): Partial<DeployApprovalRequestEntity> {
  return {
    id: row.id as string,
    app: row.app as string,
    gitCommit: row.git_commit as string,
    gitBranch: row.git_branch as string | null,
    message: row.message as string | null,
    requestedByUserId: row.requested_by_user_id as string,
    targetTokenId: row.target_token_id as string,
    targetTokenOwnerId: row.target_token_owner_id as string,
    status: row.status as DeployApprovalRequestEntity['status'],
    progress: row.progress as DeployApprovalRequestEntity['progress'],
  };
}
