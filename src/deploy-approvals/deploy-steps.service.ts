import { BadGatewayException, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, LessThanOrEqual } from 'typeorm';
import { Clock } from '../common/clock';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import type { RackSettlement } from '../proxy/rack-settlement';
import { RackClient } from '../rack/rack-client';
import { rackObject } from '../rack/rack-json';
import { DeployApprovalRequestEntity } from './deploy-approval-request.entity';
import { DeployApprovalNotices } from './deploy-approval-notices';
import { DeployNotApprovedError, DeployStepTakenError } from './deploy-approvals.errors';

/** Who is deploying what: the CI token, the app the request touches, and the actor named to the rack. */
export interface DeployCaller {
  readonly tokenId: string;
  readonly app: string;
  readonly actor: string;
}

/** A step admitted under an approval: which approval, for the record, and what settles it. */
export interface AdmittedStep {
  readonly approvalId: string;
  readonly settlement?: RackSettlement;
}

/** Who the rack is told asks, when the expiry sweep looks at an app. */
const SWEEP_ACTOR = 'rack-gateway-deploy-approvals';
/** Where to ask for an approval, in every refusal that lacks one. */
const ASK = 'ask for one with POST /api/v1/deploy-approval-requests';

/**
 * The steps of an approved deploy, each admitted once and in order: the upload, a build of that
 * upload, the release that build made, one promote of that release. A step is claimed by a
 * conditional UPDATE before the request is forwarded (so of two at once only one goes), and settled by
 * the rack's answer: recorded when the rack did it, given back when it did not. The table's trigger
 * refuses any other order, whatever this code asks of it.
 */
@Injectable()
export class DeploySteps {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rack: RackClient,
    private readonly notices: DeployApprovalNotices,
    private readonly clock: Clock,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Refuses at once, with the reason, a step of a token that has no live approval for the app at all. */
  async assertApproved(caller: DeployCaller, step: string): Promise<void> {
    const approval = await this.latestApproved(caller, undefined, ['approved', 'deployed']);
    if (!approval || approval.approvalExpiresAt === null || approval.approvalExpiresAt <= this.clock.now()) {
      throw await this.refusal(caller, step, approval ?? undefined);
    }
  }

  async upload(caller: DeployCaller, objectKey: string): Promise<AdmittedStep> {
    const approvalId = await this.claim(
      `UPDATE deploy_approval_requests SET progress = 'uploading', object_key = $3
        WHERE id = (SELECT id FROM deploy_approval_requests
                     WHERE target_token_id = $1 AND app = $2 AND status = 'approved' AND progress = 'approved' AND approval_expires_at > $4
                     ORDER BY approved_at DESC LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [caller.tokenId, caller.app, objectKey, this.clock.now()],
    );
    if (!approvalId) throw await this.refusal(caller, 'upload');
    return {
      approvalId,
      settlement: this.settlement(false, async (manager, done) => {
        await manager.query(
          done
            ? `UPDATE deploy_approval_requests SET progress = 'uploaded' WHERE id = $1 AND progress = 'uploading'`
            : `UPDATE deploy_approval_requests SET progress = 'approved', object_key = NULL WHERE id = $1 AND progress = 'uploading'`,
          [approvalId],
        );
      }),
    };
  }

  /** A build of the approved upload (`url`), of the approved commit when the form names one. */
  async build(caller: DeployCaller, source: { objectKey: string; gitSha: string | null }): Promise<AdmittedStep> {
    const approval = await this.dataSource.getRepository(DeployApprovalRequestEntity).findOneBy({
      targetTokenId: caller.tokenId,
      app: caller.app,
      objectKey: source.objectKey,
      status: 'approved',
    });
    if (!approval) {
      const approved = await this.latestApproved(caller);
      if (!approved) throw await this.refusal(caller, 'build');
      throw new DeployNotApprovedError(
        `the approved deploy of ${caller.app} (request ${approved.id}) builds only its own upload${approved.objectKey ? ` (object://${caller.app}/${approved.objectKey})` : ', which has not been made'}`,
      );
    }
    if (source.gitSha !== null && !sameCommit(source.gitSha, approval.gitCommit)) {
      throw new DeployNotApprovedError(
        `request ${approval.id} approves commit ${approval.gitCommit} of ${caller.app}, not ${source.gitSha}`,
      );
    }
    const approvalId = await this.claim(
      `UPDATE deploy_approval_requests SET progress = 'building'
        WHERE id = $1 AND status = 'approved' AND progress = 'uploaded' AND approval_expires_at > $2 RETURNING id`,
      [approval.id, this.clock.now()],
    );
    if (!approvalId) throw await this.refusal(caller, 'build', approval);
    return {
      approvalId,
      settlement: this.settlement(true, async (manager, done, answer) => {
        const buildId = done ? buildIdOf(answer) : undefined;
        if (buildId) {
          await manager.query(
            `UPDATE deploy_approval_requests SET progress = 'built', build_id = $2 WHERE id = $1 AND progress = 'building'`,
            [approvalId, buildId],
          );
        } else {
          await manager.query(`UPDATE deploy_approval_requests SET progress = 'uploaded' WHERE id = $1 AND progress = 'building'`, [
            approvalId,
          ]);
        }
      }),
    };
  }

  /**
   * A promote of the release the approved build made. The first promote fixes that release (read from
   * the rack's own record of the build, whose git sha must match); any other release is refused.
   */
  async promote(caller: DeployCaller, releaseId: string): Promise<AdmittedStep> {
    let approval = await this.latestApproved(caller, ['built', 'released', 'promoting', 'deployed']);
    if (!approval) throw await this.refusal(caller, 'promote');
    if (approval.progress === 'built' && approval.buildId) approval = await this.fixRelease(caller, approval, approval.buildId);
    if (approval.releaseId !== releaseId) {
      throw new DeployNotApprovedError(
        `request ${approval.id} approves promoting release ${approval.releaseId} of ${caller.app} (its build ${approval.buildId}), not ${releaseId}`,
      );
    }
    const approvalId = await this.claim(
      `UPDATE deploy_approval_requests SET progress = 'promoting'
        WHERE id = $1 AND status = 'approved' AND progress = 'released' AND release_id = $2 AND approval_expires_at > $3 RETURNING id`,
      [approval.id, releaseId, this.clock.now()],
    );
    if (!approvalId) throw await this.refusal(caller, 'promote', approval);
    return {
      approvalId,
      settlement: this.settlement(false, async (manager, done) => {
        if (done) return this.promoted(manager, approvalId);
        await manager.query(`UPDATE deploy_approval_requests SET progress = 'released' WHERE id = $1 AND progress = 'promoting'`, [
          approvalId,
        ]);
      }),
    };
  }

  /**
   * Promotes still in flight at `inFlightSince` were abandoned (their gateway died mid-step), yet may
   * have reached the rack: where the app now runs the approved release, the deploy happened and is
   * recorded as such. The rest expire with their request; a step is never given back on a guess.
   */
  async settleAbandonedPromotes(inFlightSince: Date): Promise<void> {
    const abandoned = await this.dataSource.getRepository(DeployApprovalRequestEntity).findBy({
      status: 'approved',
      progress: 'promoting',
      approvalExpiresAt: LessThanOrEqual(inFlightSince),
    });
    for (const request of abandoned) {
      const answer = await this.rack.get(`/apps/${encodeURIComponent(request.app)}`, SWEEP_ACTOR).catch(() => undefined);
      if (answer?.status !== 200) continue;
      const app = rackObject(answer.body);
      if (!app || app.release !== request.releaseId || app.status === 'updating') continue;
      await this.dataSource.transaction((manager) => this.promoted(manager, request.id));
    }
  }

  /** The approved release is live: the request is deployed, and says so once. */
  private async promoted(manager: EntityManager, approvalId: string): Promise<void> {
    const [rows] = await manager.query<[Array<{ id: string }>, number]>(
      `UPDATE deploy_approval_requests
          SET progress = 'deployed', deployed_at = $2, status = CASE WHEN status = 'approved' THEN 'deployed' ELSE status END
        WHERE id = $1 AND progress = 'promoting' RETURNING id`,
      [approvalId, this.clock.now()],
    );
    if (rows.length > 0)
      await this.notices.deployed(await manager.findOneByOrFail(DeployApprovalRequestEntity, { id: approvalId }), manager);
  }

  /**
   * `convox run` or exec under an approved deploy: only a command on the app's allowlist, only with
   * the approved release (run names it; exec's process must be running it), within the window.
   */
  async runCommand(
    caller: DeployCaller,
    command: string | undefined,
    release: { named?: string; ofProcess?: string },
  ): Promise<AdmittedStep> {
    const approval = await this.latestApproved(caller, ['released', 'promoting', 'deployed'], ['approved', 'deployed']);
    if (!approval?.releaseId) {
      throw new DeployNotApprovedError(
        `deploy approval required: no approved deploy of ${caller.app} has a release to run commands against; ${ASK}`,
      );
    }
    if (approval.approvalExpiresAt === null || approval.approvalExpiresAt <= this.clock.now()) {
      throw new DeployNotApprovedError(`deploy approval required: the approval of request ${approval.id} has expired; ${ASK}`);
    }
    const policy = this.config.deployApprovals.policies[caller.app] ?? this.config.deployApprovals.policies['*'];
    if (command === undefined || !policy.commands.includes(command.trim())) {
      throw new DeployNotApprovedError(
        `an approved deploy of ${caller.app} may run only its allowlisted commands${policy.commands.length ? ` (${policy.commands.join(', ')})` : ' (none are allowed)'}`,
      );
    }
    const releaseId = release.named ?? (release.ofProcess ? await this.releaseOfProcess(caller, release.ofProcess) : undefined);
    if (releaseId !== approval.releaseId) {
      throw new DeployNotApprovedError(`commands under request ${approval.id} run only against release ${approval.releaseId}`);
    }
    return { approvalId: approval.id };
  }

  private async fixRelease(
    caller: DeployCaller,
    approval: DeployApprovalRequestEntity,
    buildId: string,
  ): Promise<DeployApprovalRequestEntity> {
    const answer = await this.rack
      .get(`/apps/${encodeURIComponent(caller.app)}/builds/${encodeURIComponent(buildId)}`, caller.actor)
      .catch(() => undefined);
    const build = answer?.status === 200 ? rackObject(answer.body) : undefined;
    if (!build) throw new BadGatewayException({ code: 'rack_unavailable', message: `could not read build ${buildId} from the rack` });
    if (typeof build['git-sha'] === 'string' && build['git-sha'] !== '' && !sameCommit(build['git-sha'], approval.gitCommit)) {
      throw new DeployNotApprovedError(`build ${buildId} is of commit ${build['git-sha']}, not the approved ${approval.gitCommit}`);
    }
    const releaseId = rackId(build.release);
    if (build.status !== 'complete' || !releaseId) {
      throw new DeployNotApprovedError(`build ${buildId} has not made a release yet (it is ${String(build.status)})`);
    }
    await this.dataSource.query(
      `UPDATE deploy_approval_requests SET progress = 'released', release_id = $2 WHERE id = $1 AND progress = 'built'`,
      [approval.id, releaseId],
    );
    return this.dataSource.getRepository(DeployApprovalRequestEntity).findOneByOrFail({ id: approval.id });
  }

  private async releaseOfProcess(caller: DeployCaller, pid: string): Promise<string | undefined> {
    const answer = await this.rack
      .get(`/apps/${encodeURIComponent(caller.app)}/processes/${encodeURIComponent(pid)}`, caller.actor)
      .catch(() => undefined);
    return answer?.status === 200 ? rackId(rackObject(answer.body)?.release) : undefined;
  }

  private async claim(sql: string, parameters: unknown[]): Promise<string | undefined> {
    const [rows] = await this.dataSource.query<[Array<{ id: string }>, number]>(sql, parameters);
    return rows[0]?.id;
  }

  /** Settles once, whoever calls first: the proxy with the rack's answer, or the guard when the request ends without one. */
  private settlement(
    readsAnswer: boolean,
    record: (manager: EntityManager, done: boolean, answer: unknown) => Promise<void>,
  ): RackSettlement {
    let settled: Promise<void> | undefined;
    return {
      readsAnswer,
      settle: (status, answer) =>
        (settled ??= this.dataSource.transaction((manager) => record(manager, status >= 200 && status < 300, answer))),
    };
  }

  /** The newest approved request of this token for this app, among those at the given steps. */
  private latestApproved(
    caller: DeployCaller,
    progress?: readonly string[],
    statuses: readonly string[] = ['approved'],
  ): Promise<DeployApprovalRequestEntity | null> {
    const builder = this.dataSource
      .getRepository(DeployApprovalRequestEntity)
      .createQueryBuilder('request')
      .where('request.target_token_id = :tokenId AND request.app = :app AND request.status IN (:...statuses)', {
        tokenId: caller.tokenId,
        app: caller.app,
        statuses,
      })
      .orderBy('request.approved_at', 'DESC')
      .limit(1);
    if (progress) builder.andWhere('request.progress IN (:...progress)', { progress });
    return builder.getOne();
  }

  /** Why a step was not admitted, as precisely as the token's requests tell. */
  private async refusal(caller: DeployCaller, step: string, known?: DeployApprovalRequestEntity): Promise<Error> {
    const request =
      known ??
      (await this.dataSource.getRepository(DeployApprovalRequestEntity).findOne({
        where: { targetTokenId: caller.tokenId, app: caller.app },
        order: { createdAt: 'DESC' },
      }));
    const now = this.clock.now();
    if (!request || request.status === 'rejected' || request.status === 'expired') {
      return new DeployNotApprovedError(`deploy approval required: no approved deploy lets this token ${step} ${caller.app}; ${ASK}`);
    }
    if (request.status === 'deployed') {
      return new DeployStepTakenError(`request ${request.id} allowed one ${step}, and its deploy is done; for another, ${ASK}`);
    }
    if (request.status === 'pending') {
      return new DeployNotApprovedError(`deploy approval required: request ${request.id} to deploy ${caller.app} is still pending`);
    }
    if (request.status === 'approved' && request.approvalExpiresAt !== null && request.approvalExpiresAt <= now) {
      return new DeployNotApprovedError(`deploy approval required: the approval of request ${request.id} has expired; ${ASK}`);
    }
    return new DeployStepTakenError(`request ${request.id} allows one ${step}, and it has been ${takenOrUnderway(request, step)}`);
  }
}

/** Whether a git sha and an approved commit name the same commit: one is a prefix of the other, of 7 digits or more. */
export function sameCommit(gitSha: string, approved: string): boolean {
  const sha = gitSha.trim().toLowerCase();
  if (!/^[0-9a-f]{7,40}$/.test(sha)) return false;
  return sha.startsWith(approved) || approved.startsWith(sha);
}

function buildIdOf(answer: unknown): string | undefined {
  return rackId((answer as { id?: unknown } | null | undefined)?.id);
}

/** A build or release id as the rack makes them; anything else in its place is not taken on trust. */
function rackId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

function takenOrUnderway(request: DeployApprovalRequestEntity, step: string): string {
  const underway = { upload: 'uploading', build: 'building', promote: 'promoting' }[step];
  return request.progress === underway ? 'started already' : 'taken';
}
