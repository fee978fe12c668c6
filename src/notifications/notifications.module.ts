import { Global, Module } from '@nestjs/common';
import { WebhookNotifications } from './webhook-notifications.service';

/**
 * Webhook notices (deploy approvals and the like), committed with the caller's change and delivered
 * by pg-boss. Global, so any module may announce without importing this one.
 */
@Global()
@Module({
  providers: [WebhookNotifications],
  exports: [WebhookNotifications],
})
export class NotificationsModule {}
