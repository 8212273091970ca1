/**
 * Where the demo's payments live (its stand-in for a payments service): in memory for one
 * gateway, or in Redis (with REDIS_URL) so that every gateway behind nginx sees the same
 * payments.
 *
 * Both are bounded per owner: a user past `maxPerOwner` loses their own oldest payment, never
 * anyone else's. A total bound (`maxTotal`) refuses new payments when reached (StoreFull, 503)
 * instead of making room with another user's data.
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

/** The store holds `maxTotal` payments, and no owner holds more than `maxPerOwner`. */
export interface PaymentLimits {
  readonly maxPerOwner: number;
  readonly maxTotal: number;
}

export const DEFAULT_PAYMENT_LIMITS: PaymentLimits = { maxPerOwner: 1000, maxTotal: 100_000 };

/** The store holds `maxTotal` payments: a new one is refused rather than another user's dropped. */
export class StoreFull extends Error {
  override readonly name = 'StoreFull';
  /** Rendered by the HTTP error handler as 503 SERVICE_UNAVAILABLE with this message. */
  readonly status = 503;
  readonly expose = true;
  constructor() {
    super('the payment store is full; retry later');
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
  /** Stores a new payment, dropping the owner's own oldest past `maxPerOwner`; rejects with StoreFull. */
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

/** The newest payments `list` returns at most. */
export const LIST_WINDOW = 1000;

export const isInFlight = (payment: Payment): boolean => payment.status === 'pending' || payment.status === 'processing';

export class InMemoryPaymentStore implements PaymentStore {
  // Insertion order is creation order, which makes dropping an owner's oldest cheap.
  private readonly payments = new Map<string, Payment>();
  private readonly byOwner = new Map<string, Set<string>>();

  constructor(
    private readonly limits: PaymentLimits = DEFAULT_PAYMENT_LIMITS,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(input: NewPayment): Promise<Payment> {
    let owned = this.byOwner.get(input.ownerId);
    const replacesOwn = owned !== undefined && owned.size >= this.limits.maxPerOwner;
    if (!replacesOwn && this.payments.size >= this.limits.maxTotal) throw new StoreFull();
    const payment = newPayment(input, this.now());
    this.payments.set(payment.paymentId, payment);
    if (!owned) this.byOwner.set(input.ownerId, (owned = new Set()));
    owned.add(payment.paymentId);
    for (const oldest of owned) {
      if (owned.size <= this.limits.maxPerOwner) break;
      this.drop(oldest);
    }
    return payment;
  }

  async get(paymentId: string): Promise<Payment | undefined> {
    return this.payments.get(paymentId);
  }

  async list(ownerId?: string): Promise<Payment[]> {
    const ids = ownerId === undefined ? this.payments.keys() : (this.byOwner.get(ownerId) ?? []);
    return [...ids].slice(-LIST_WINDOW).reverse().flatMap((paymentId) => this.payments.get(paymentId) ?? []);
  }

  async inFlight(): Promise<Payment[]> {
    return [...this.payments.values()].filter(isInFlight);
  }

  /** Forgets a payment in every index. */
  private drop(paymentId: string): void {
    const payment = this.payments.get(paymentId);
    if (!payment) return;
    this.payments.delete(paymentId);
    this.byOwner.get(payment.ownerId)?.delete(paymentId);
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
