/**
 * Payment changes and the events they cause: every change goes to the owner, to admins and to
 * the payment's own room; a terminal status also notifies the owner.
 */
import { randomBytes } from 'node:crypto';
import {
  roleRoom,
  userRoom,
  type NoticeLevel,
  TERMINAL_PAYMENT_STATUSES,
  type Payment,
  type PaymentStatus,
  type PublishRequest,
} from '@payments-system/protocol';
import type { Logger } from '../../logger.ts';
import type { NewPayment, PaymentStore } from './payment-store.ts';

export type Publish = (request: PublishRequest) => Promise<string>;

const NOTICE: Readonly<Record<PaymentStatus, { level: NoticeLevel; title: string; verb: string }>> = {
  pending: { level: 'info', title: 'Payment received', verb: 'was received' },
  processing: { level: 'info', title: 'Payment processing', verb: 'is being processed' },
  completed: { level: 'success', title: 'Payment completed', verb: 'has completed' },
  failed: { level: 'error', title: 'Payment failed', verb: 'has failed' },
  refunded: { level: 'info', title: 'Payment refunded', verb: 'was refunded' },
};

export class PaymentService {
  constructor(
    readonly store: PaymentStore,
    private readonly publish: Publish,
    private readonly logger: Logger,
  ) {}

  async create(input: NewPayment, correlationId?: string): Promise<Payment> {
    const payment = await this.store.create(input);
    await this.announce(payment, undefined, correlationId);
    return payment;
  }

  async changeStatus(paymentId: string, status: PaymentStatus, correlationId?: string): Promise<Payment> {
    const { payment, previous } = await this.store.transition(paymentId, status);
    await this.announce(payment, previous.status, correlationId);
    return payment;
  }

  private async announce(payment: Payment, previousStatus: PaymentStatus | undefined, correlationId?: string): Promise<void> {
    const payload = { ...payment, ...(previousStatus && { previousStatus }) };
    const trace = correlationId === undefined ? {} : { correlationId };
    // Owner and admins; not also `payment:<id>`, which would hand its watchers a second copy.
    const rooms = [userRoom(payment.ownerId), roleRoom('ADMIN')];
    await Promise.all(rooms.map((room) => this.publish({ room, type: 'payment:updated', payload, ...trace })));
    if (TERMINAL_PAYMENT_STATUSES.has(payment.status)) {
      const notice = NOTICE[payment.status];
      await this.publish({
        room: userRoom(payment.ownerId),
        type: 'notification:new',
        payload: {
          notificationId: `n_${randomBytes(6).toString('hex')}`,
          level: notice.level,
          title: notice.title,
          message: `Your payment of ${payment.amount} ${payment.currency} (${payment.description}) ${notice.verb}.`,
          paymentId: payment.paymentId,
        },
        ...trace,
      });
    }
    this.logger.info({ paymentId: payment.paymentId, status: payment.status, previousStatus, correlationId }, 'payment updated');
  }
}
