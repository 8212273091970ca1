/** Payments in memory (the demo's stand-in for a payments service), bounded in count. */
import { randomBytes } from 'node:crypto';
import { canTransitionPayment, type Payment, type PaymentStatus } from '@payments-system/protocol';

export class PaymentNotFound extends Error {
  override readonly name = 'PaymentNotFound';
  constructor(readonly paymentId: string) {
    super(`no payment ${paymentId}`);
  }
}

export class IllegalTransition extends Error {
  override readonly name = 'IllegalTransition';
  constructor(
    readonly from: PaymentStatus,
    readonly to: PaymentStatus,
  ) {
    super(`cannot move a payment from ${from} to ${to}`);
  }
}

export interface NewPayment {
  readonly ownerId: string;
  readonly amount: string;
  readonly currency: string;
  readonly description: string;
}

export class PaymentStore {
  // Insertion order is creation order, which makes dropping the oldest cheap.
  private readonly payments = new Map<string, Payment>();

  constructor(
    private readonly maxPayments = 10_000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(input: NewPayment): Payment {
    const at = this.now().toISOString();
    const payment: Payment = {
      ...input,
      paymentId: `pay_${randomBytes(6).toString('hex')}`,
      status: 'pending',
      createdAt: at,
      updatedAt: at,
    };
    this.payments.set(payment.paymentId, payment);
    if (this.payments.size > this.maxPayments) {
      const oldest = this.payments.keys().next().value;
      if (oldest !== undefined) this.payments.delete(oldest);
    }
    return payment;
  }

  get(paymentId: string): Payment | undefined {
    return this.payments.get(paymentId);
  }

  /** Newest first; `ownerId` limits the list to one owner's payments. */
  list(ownerId?: string): Payment[] {
    const all = [...this.payments.values()].reverse();
    return ownerId === undefined ? all : all.filter((payment) => payment.ownerId === ownerId);
  }

  /** Payments not yet in a terminal state, oldest first. */
  inFlight(): Payment[] {
    return [...this.payments.values()].filter((payment) => payment.status === 'pending' || payment.status === 'processing');
  }

  transition(paymentId: string, to: PaymentStatus): { readonly payment: Payment; readonly previous: Payment } {
    const previous = this.payments.get(paymentId);
    if (!previous) throw new PaymentNotFound(paymentId);
    if (!canTransitionPayment(previous.status, to)) throw new IllegalTransition(previous.status, to);
    const payment: Payment = { ...previous, status: to, updatedAt: this.now().toISOString() };
    this.payments.set(paymentId, payment);
    return { payment, previous };
  }
}
