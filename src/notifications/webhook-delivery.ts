import { type WebhookNotice, webhookPayload } from './webhook-notice';

/** How long a receiver has to answer one delivery; then it counts as failed and is retried. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** Why a delivery failed, in words safe for a log line: never the URL, which is a credential. */
export class WebhookDeliveryError extends Error {}

/**
 * POSTs a notice to the webhook. Resolves once the receiver answered 2xx; rejects with a
 * WebhookDeliveryError otherwise. `deliveryId` is the same on every attempt, so receivers can drop
 * repeats.
 */
export async function deliverWebhook(url: string, notice: WebhookNotice, deliveryId: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'rack-gateway',
        'x-rack-gateway-event': notice.event,
        'x-rack-gateway-delivery': deliveryId,
      },
      body: JSON.stringify(webhookPayload(notice)),
      // A redirect is a failure, not a reason to send the notice somewhere else.
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
  } catch (error) {
    // fetch's own errors name the URL in places (an invalid one, a refused redirect): only their kind is kept.
    throw new WebhookDeliveryError(failureReason(error));
  }
  // The answer's body is not needed; cancelling it frees the connection (one that already failed has nothing to free).
  await response.body?.cancel().catch(() => undefined);
  if (!response.ok) throw new WebhookDeliveryError(`status ${response.status}`);
}

function failureReason(error: unknown): string {
  const { name, cause } = error as { name?: unknown; cause?: { code?: unknown } };
  if (name === 'TimeoutError') return `no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`;
  return typeof cause?.code === 'string' ? `network error ${cause.code}` : 'network error';
}
