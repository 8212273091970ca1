/**
 * A steady publisher of numbered payment updates through `POST /api/events`, for the chaos and
 * failover suites: every `intervalMs`, the next number, retried until a 202 (on 503, 502, 504 or
 * a connection error). Only a 202 counts as accepted. Every attempt of one number carries the same
 * `Idempotency-Key`, so a gateway that honours it never publishes a number twice. It posts to its
 * origins in turn (nginx, or the gateways themselves), over HTTPS when the origin is.
 */
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { PublishRequest } from '@payments-system/protocol';
import type { TokenSubject } from '../../src/auth/tokens.ts';

export interface Accepted {
  readonly seq: number;
  readonly id: string;
  readonly room: PublishRequest['room'];
  /** When the 202 arrived (ms since the epoch). */
  readonly at: number;
}

export interface PublisherStats {
  attempts: number;
  accepted: number;
  /** Answers 503 (bus unavailable, or nginx with no gateway) and 502/504 (a gateway died mid-request). */
  refused: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  /** Sequence numbers that needed more than one attempt, and whose first attempts' fate is unknown. */
  retried: Set<number>;
  /** When each refused or failed attempt was answered (ms since the epoch). */
  refusedAt: number[];
}

export interface PublishTarget {
  /** `https://host:port` or `http://host:port`, taken in turn. */
  readonly origins: readonly string[];
  readonly token: (subject: TokenSubject) => string;
  /** The CA an HTTPS origin's certificate is checked against. */
  readonly ca?: Buffer;
}

const PUBLISHER: TokenSubject = { userId: 'publisher', email: 'publisher@demo.test', role: 'ADMIN' };

export class Publisher {
  readonly accepted: Accepted[] = [];
  readonly stats: PublisherStats = { attempts: 0, accepted: 0, refused: {}, errors: 0, retried: new Set(), refusedAt: [] };
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly agents: Array<HttpAgent | HttpsAgent>;
  private next = 0;
  private turn = 0;
  private readonly runId = randomBytes(4).toString('hex');

  constructor(
    private readonly target: PublishTarget,
    private readonly roomOf: (seq: number) => PublishRequest['room'],
    private readonly intervalMs = 5,
  ) {
    this.agents = target.origins.map((origin) =>
      origin.startsWith('https:') ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...(target.ca && { ca: target.ca }) }) : new HttpAgent({ keepAlive: true, maxSockets: 1 }),
    );
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops once the number in flight is accepted. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const agent of this.agents) agent.destroy();
  }

  /**
   * The longest stretch without an accepted event that contains a refusal: how long publishing was
   * refused around an outage (from the last 202 before it, `from`, to the first after it, `to`).
   */
  longestGap(): { ms: number; from: number; to: number } {
    let longest = { ms: 0, from: 0, to: 0 };
    for (let i = 1; i < this.accepted.length; i++) {
      const [from, to] = [this.accepted[i - 1]!.at, this.accepted[i]!.at];
      if (to - from > longest.ms && this.stats.refusedAt.some((at) => at > from && at <= to)) longest = { ms: to - from, from, to };
    }
    return longest;
  }

  private async run(): Promise<void> {
    const token = this.target.token(PUBLISHER);
    while (this.running) {
      const seq = this.next++;
      const room = this.roomOf(seq);
      const body = JSON.stringify({
        room,
        type: 'payment:updated',
        payload: { paymentId: `pay_${seq}`, status: 'processing', amount: `${seq}.00`, currency: 'EUR' },
        correlationId: `seq-${seq}`,
      });
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) this.stats.retried.add(seq);
        this.stats.attempts++;
        const result = await this.post(body, token, `publish-${this.runId}-${seq}`);
        if (result.status === 202) {
          this.accepted.push({ seq, id: result.id!, room, at: Date.now() });
          this.stats.accepted++;
          break;
        }
        this.stats.refusedAt.push(Date.now());
        if (result.status === 0) this.stats.errors++;
        else this.stats.refused[result.status] = (this.stats.refused[result.status] ?? 0) + 1;
        if (![0, 502, 503, 504].includes(result.status)) throw new Error(`publish #${seq} answered ${result.status}`);
        // Faster than Retry-After (1 s) to keep the tests short; a real publisher would honour it.
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 50));
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
  }

  /**
   * Whether the gateways honour `Idempotency-Key` on POST /api/events: the same key twice must
   * give the same id. Without it a retry after an ambiguous failure can publish an event twice.
   */
  async idempotent(): Promise<boolean> {
    const token = this.target.token(PUBLISHER);
    const body = JSON.stringify({ room: 'user:nobody', type: 'system:broadcast', payload: { message: 'idempotency probe', level: 'info' } });
    const key = `probe-${randomBytes(8).toString('hex')}`;
    const [first, second] = [await this.post(body, token, key), await this.post(body, token, key)];
    if (first.status !== 202 || second.status !== 202) throw new Error(`idempotency probe answered ${first.status}, ${second.status}`);
    return first.id === second.id;
  }

  private post(body: string, token: string, idempotencyKey: string): Promise<{ status: number; id?: string }> {
    const index = this.turn++ % this.target.origins.length;
    const origin = new URL(this.target.origins[index]!);
    const request = origin.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const outgoing = request(
        {
          host: origin.hostname,
          port: Number(origin.port),
          path: '/api/events',
          method: 'POST',
          agent: this.agents[index],
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            'content-length': Buffer.byteLength(body),
            'idempotency-key': idempotencyKey,
          },
          timeout: 5000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            try {
              resolve(status === 202 ? { status, id: (JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id } : { status });
            } catch {
              resolve({ status: 0 });
            }
          });
          response.on('error', () => resolve({ status: 0 }));
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
      outgoing.on('error', () => resolve({ status: 0 }));
      outgoing.end(body);
    });
  }
}
