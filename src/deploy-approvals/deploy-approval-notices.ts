import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { GATEWAY_CONFIG, GatewayConfig } from '../config/gateway-config';
import { WebhookNotifications } from '../notifications/webhook-notifications.service';
import type { DeployApprovalRequestEntity, DeployDecision } from './deploy-approval-request.entity';

/**
 * What people are told about deploy approvals (request, decision, deploy, expiry), through the
 * webhook outbox. Each notice is enqueued in the transaction that made the change it reports, so it is
 * sent exactly when that change is committed.
 */
@Injectable()
export class DeployApprovalNotices {
  constructor(
    private readonly webhooks: WebhookNotifications,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  requested(request: DeployApprovalRequestEntity, by: string, manager: EntityManager): Promise<void> {
    return this.send('deploy-approval.requested', `${by} asks to deploy ${request.app} at ${shortCommit(request)}`, request, manager, {
      'Requested by': by,
      ...(request.message ? { Message: request.message } : {}),
    });
  }

  decided(
    request: DeployApprovalRequestEntity,
    by: string,
    decision: DeployDecision,
    note: string | null,
    manager: EntityManager,
  ): Promise<void> {
    const what =
      decision === 'reject'
        ? `${by} rejected the deploy of ${request.app} at ${shortCommit(request)}`
        : request.status === 'approved'
          ? `${by} approved the deploy of ${request.app} at ${shortCommit(request)}`
          : `${by} approved the deploy of ${request.app} at ${shortCommit(request)}; more approvers needed (${request.approvalsRequired} in all)`;
    const event = decision === 'reject' ? 'deploy-approval.rejected' : 'deploy-approval.approved';
    return this.send(event, what, request, manager, {
      [decision === 'reject' ? 'Rejected by' : 'Approved by']: by,
      ...(note ? { Note: note } : {}),
    });
  }

  deployed(request: DeployApprovalRequestEntity, manager: EntityManager): Promise<void> {
    return this.send('deploy-approval.deployed', `${request.app} at ${shortCommit(request)} is deployed`, request, manager, {
      ...(request.releaseId ? { Release: request.releaseId } : {}),
    });
  }

  expired(request: DeployApprovalRequestEntity, manager: EntityManager): Promise<void> {
    return this.send(
      'deploy-approval.expired',
      `The deploy approval for ${request.app} at ${shortCommit(request)} expired`,
      request,
      manager,
      {},
    );
  }

  private send(
    event: string,
    text: string,
    request: DeployApprovalRequestEntity,
    manager: EntityManager,
    fields: Record<string, string>,
  ): Promise<void> {
    return this.webhooks.enqueue(
      {
        event,
        text,
        fields: { App: request.app, Commit: request.gitCommit, ...(request.gitBranch ? { Branch: request.gitBranch } : {}), ...fields },
        url: `${this.config.http.publicUrl}/ui/deploy-approvals/${request.id}`,
      },
      manager,
    );
  }
}

function shortCommit(request: DeployApprovalRequestEntity): string {
  return request.gitCommit.slice(0, 12);
}
