/**
 * Payments in Redis, shared by every gateway. Each payment is one JSON string; sorted sets by
 * creation time keep the order and the bounds, one for all payments and one per owner. A creation
 * and a status change are each one Lua script, written with the replicas' acknowledgement when the
 * gateway asks for one (see redis/connection.ts): the creation checks the bounds and drops the
 * owner's own oldest payments past theirs; the status change checks the current status against
 * the state machine, so two gateways (or two admins) cannot both move a payment.
 *
 *   <prefix>payment:<id>              the payment (JSON)
 *   <prefix>payments                  sorted set of every id by creation time
 *   <prefix>payments:owner:<ownerId>  sorted set of one owner's ids by creation time
 */
import type { RedisConnection } from '../../redis/connection.ts';
import { orUnavailable } from '../../redis/unavailable.ts';
import { PAYMENT_STATUSES, PAYMENT_TRANSITIONS, type Payment, type PaymentStatus } from '@payments-system/protocol';
import {
  DEFAULT_PAYMENT_LIMITS,
  IllegalTransition,
  isInFlight,
  LIST_WINDOW,
  newPayment,
  PaymentNotFound,
  StoreFull,
  type NewPayment,
  type PaymentLimits,
  type PaymentStore,
  type Transition,
} from './payment-store.ts';

// KEYS: the payment, the index of all, the owner's index. ARGV: the payment (JSON), its score, its
// id, maxPerOwner, maxTotal, the prefix of payment keys. The payments dropped are the owner's own,
// whose keys are derived from their ids (one Redis, not a cluster).
const CREATE = `
local owned = redis.call('ZCARD', KEYS[3])
if owned < tonumber(ARGV[4]) and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'full' end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
local excess = owned + 1 - tonumber(ARGV[4])
if excess > 0 then
  local dropped = redis.call('ZPOPMIN', KEYS[3], excess)
  for i = 1, #dropped, 2 do
    redis.call('ZREM', KEYS[2], dropped[i])
    redis.call('DEL', ARGV[6] .. dropped[i])
  end
end
return 'ok'
`;

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
  /** `connection` fails fast (errors surface on each command as 503) and reconnects by itself. */
  constructor(
    private readonly connection: RedisConnection,
    private readonly limits: PaymentLimits = DEFAULT_PAYMENT_LIMITS,
    private readonly prefix = 'realtime:',
    private readonly now: () => Date = () => new Date(),
    /** The newest payments `list` and `inFlight` look at. */
    private readonly window = LIST_WINDOW,
  ) {}

  async connect(): Promise<void> {
    await this.connection.connect();
  }

  async close(): Promise<void> {
    this.connection.destroy();
  }

  async create(input: NewPayment): Promise<Payment> {
    const payment = newPayment(input, this.now());
    const outcome = await this.run(() =>
      this.connection.write(
        CREATE,
        [this.key('payment', payment.paymentId), this.key('payments'), this.ownerKey(input.ownerId)],
        [
          JSON.stringify(payment),
          String(Date.parse(payment.createdAt)),
          payment.paymentId,
          String(this.limits.maxPerOwner),
          String(this.limits.maxTotal),
          this.key('payment', ''),
        ],
      ),
    );
    if (outcome === 'full') throw new StoreFull();
    return payment;
  }

  async get(paymentId: string): Promise<Payment | undefined> {
    const raw = await this.run(() => this.connection.commands.get(this.key('payment', paymentId)));
    return raw === null ? undefined : (JSON.parse(raw) as Payment);
  }

  async list(ownerId?: string): Promise<Payment[]> {
    return this.newest(ownerId === undefined ? this.key('payments') : this.ownerKey(ownerId));
  }

  async inFlight(): Promise<Payment[]> {
    return (await this.newest(this.key('payments'))).filter(isInFlight).reverse();
  }

  async transition(paymentId: string, to: PaymentStatus): Promise<Transition> {
    const reply = (await this.run(() =>
      this.connection.write(TRANSITION, [this.key('payment', paymentId)], [to, this.now().toISOString(), ...FROM[to]]),
    )) as string[];
    const [outcome, first, second] = reply;
    if (outcome === 'missing') throw new PaymentNotFound(paymentId);
    if (outcome === 'illegal') throw new IllegalTransition(first as PaymentStatus, to);
    return { previous: JSON.parse(first as string) as Payment, payment: JSON.parse(second as string) as Payment };
  }

  private async newest(index: string): Promise<Payment[]> {
    const ids = await this.run(() => this.connection.commands.zRange(index, 0, this.window - 1, { REV: true }));
    if (ids.length === 0) return [];
    const raws = await this.run(() => this.connection.commands.mGet(ids.map((id) => this.key('payment', id))));
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as Payment]));
  }

  private key(kind: 'payment' | 'payments', id?: string): string {
    return id === undefined ? `${this.prefix}${kind}` : `${this.prefix}${kind}:${id}`;
  }

  private ownerKey(ownerId: string): string {
    return `${this.prefix}payments:owner:${ownerId}`;
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    return orUnavailable('payment store', command);
  }
}
