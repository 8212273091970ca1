import { parsePublishRequest, paymentRoom, type PublishRequest } from '@payments-system/protocol';

/** The body of `POST /api/events` that tells the payment's room it completed. */
export function paymentCompleted(paymentId: string, amount: string): PublishRequest<'payment:updated'> {
  return {
    room: paymentRoom(paymentId),
    type: 'payment:updated',
    payload: { paymentId, status: 'completed', amount, currency: 'EUR' },
  };
}

/** Checks a body with the gateway's own rules: `null` when valid, else the message naming the field. */
export function publishError(body: unknown): string | null {
  const result = parsePublishRequest(body);
  return result.ok ? null : result.error;
}
