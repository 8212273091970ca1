/**
 * Payments in Redis, shared by every gateway. Each payment is one JSON string; a sorted set by
 * creation time keeps the order and the bound. A status change is one Lua script that checks the
 * current status against the state machine, so two gateways (or two admins) cannot both move it.
 *
 *   <prefix>payment:<id>  the payment (JSON)
 *   <prefix>payments      sorted set of ids by creation time
 */
import type { RedisClientType } from 'redis';
import { createRedisClient, orUnavailable } from '../../redis/client.ts';
import { PAYMENT_STATUSES, PAYMENT_TRANSITIONS, type Payment, type PaymentStatus } from '@payments-system/protocol';
import {
  IllegalTransition,
  isInFlight,
  newPayment,
  PaymentNotFound,
  type NewPayment,
  type PaymentStore,
  type Transition,
} from './payment-store.ts';

const TRANSITION = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {'missing'} end
local payment = cjson.decode(raw)
local allowed = false
for i = 3, #ARGV do
  if payment.status == ARGV[i] then allowed = true end
end
if not allowed then return {'illegal', payment.status} end
payment.status = ARGV[1]
payment.updatedAt = ARGV[2]
local updated = cjson.encode(payment)
redis.call('SET', KEYS[1], updated)
return {'ok', raw, updated}
`;

/** The statuses a payment may come from to reach each status. */
const FROM: { readonly [S in PaymentStatus]: PaymentStatus[] } = Object.fromEntries(
  PAYMENT_STATUSES.map((to) => [to, PAYMENT_STATUSES.filter((from) => PAYMENT_TRANSITIONS[from].includes(to))]),
) as { [S in PaymentStatus]: PaymentStatus[] };

export class RedisPaymentStore implements PaymentStore {
  private readonly client: RedisClientType;

  constructor(
    url: string,
    private readonly maxPayments = 10_000,
    private readonly prefix = 'realtime:',
    private readonly now: () => Date = () => new Date(),
    /** The newest payments `list` and `inFlight` look at. */
    private readonly window = 1000,
  ) {
    this.client = createRedisClient(url, { failFast: true });
    this.client.on('error', () => undefined);
  }

  async connect(): Promise<void> {
    await this.client.connect();
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  async create(input: NewPayment): Promise<Payment> {
    const payment = newPayment(input, this.now());
    const index = this.key('payments');
    await this.run(() =>
      this.client
        .multi()
        .set(this.key('payment', payment.paymentId), JSON.stringify(payment))
        .zAdd(index, { score: Date.parse(payment.createdAt), value: payment.paymentId })
        .exec(),
    );
    const excess = (await this.run(() => this.client.zCard(index))) - this.maxPayments;
    if (excess > 0) {
      const dropped = await this.run(() => this.client.zPopMinCount(index, excess));
      if (dropped.length > 0) await this.run(() => this.client.del(dropped.map((entry) => this.key('payment', entry.value))));
    }
    return payment;
  }

  async get(paymentId: string): Promise<Payment | undefined> {
    const raw = await this.run(() => this.client.get(this.key('payment', paymentId)));
    return raw === null ? undefined : (JSON.parse(raw) as Payment);
  }

  async list(ownerId?: string): Promise<Payment[]> {
    const newest = await this.newest();
    return ownerId === undefined ? newest : newest.filter((payment) => payment.ownerId === ownerId);
  }

  async inFlight(): Promise<Payment[]> {
    return (await this.newest()).filter(isInFlight).reverse();
  }

  async transition(paymentId: string, to: PaymentStatus): Promise<Transition> {
    const reply = (await this.run(() =>
      this.client.eval(TRANSITION, {
        keys: [this.key('payment', paymentId)],
        arguments: [to, this.now().toISOString(), ...FROM[to]],
      }),
    )) as string[];
    const [outcome, first, second] = reply;
    if (outcome === 'missing') throw new PaymentNotFound(paymentId);
    if (outcome === 'illegal') throw new IllegalTransition(first as PaymentStatus, to);
    return { previous: JSON.parse(first as string) as Payment, payment: JSON.parse(second as string) as Payment };
  }

  private async newest(): Promise<Payment[]> {
    const ids = await this.run(() => this.client.zRange(this.key('payments'), 0, this.window - 1, { REV: true }));
    if (ids.length === 0) return [];
    const raws = await this.run(() => this.client.mGet(ids.map((id) => this.key('payment', id))));
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as Payment]));
  }

  private key(kind: 'payment' | 'payments', id?: string): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    return orUnavailable('payment store', command);
  }
}
