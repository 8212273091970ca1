/**
 * Where the demo's payments live (its stand-in for a payments service): in memory for one
 * gateway, or in Redis (with REDIS_URL) so that every gateway behind nginx sees the same
 * payments. Both are bounded in count, dropping the oldest.
 */
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

export interface Transition {
  readonly payment: Payment;
  readonly previous: Payment;
}

export interface PaymentStore {
  create(input: NewPayment): Promise<Payment>;
  get(paymentId: string): Promise<Payment | undefined>;
  /** Newest first; `ownerId` limits the list to one owner's payments. */
  list(ownerId?: string): Promise<Payment[]>;
  /** Payments not yet in a terminal state, oldest first. */
  inFlight(): Promise<Payment[]>;
  /** Moves a payment to `to`, atomically; rejects with PaymentNotFound or IllegalTransition. */
  transition(paymentId: string, to: PaymentStatus): Promise<Transition>;
}

export function newPayment(input: NewPayment, at: Date): Payment {
  const timestamp = at.toISOString();
  return { ...input, paymentId: `pay_${randomBytes(6).toString('hex')}`, status: 'pending', createdAt: timestamp, updatedAt: timestamp };
}

export const isInFlight = (payment: Payment): boolean => payment.status === 'pending' || payment.status === 'processing';

export class InMemoryPaymentStore implements PaymentStore {
  // Insertion order is creation order, which makes dropping the oldest cheap.
  private readonly payments = new Map<string, Payment>();

  constructor(
    private readonly maxPayments = 10_000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: NewPayment): Promise<Payment> {
    const payment = newPayment(input, this.now());
    this.payments.set(payment.paymentId, payment);
    if (this.payments.size > this.maxPayments) {
      const oldest = this.payments.keys().next().value;
      if (oldest !== undefined) this.payments.delete(oldest);
    }
    return payment;
  }

  async get(paymentId: string): Promise<Payment | undefined> {
    return this.payments.get(paymentId);
  }

  async list(ownerId?: string): Promise<Payment[]> {
    const all = [...this.payments.values()].reverse();
    return ownerId === undefined ? all : all.filter((payment) => payment.ownerId === ownerId);
  }

  async inFlight(): Promise<Payment[]> {
    return [...this.payments.values()].filter(isInFlight);
  }

  async transition(paymentId: string, to: PaymentStatus): Promise<Transition> {
    const previous = this.payments.get(paymentId);
    if (!previous) throw new PaymentNotFound(paymentId);
    if (!canTransitionPayment(previous.status, to)) throw new IllegalTransition(previous.status, to);
    const payment: Payment = { ...previous, status: to, updatedAt: this.now().toISOString() };
    this.payments.set(paymentId, payment);
    return { payment, previous };
  }
}
