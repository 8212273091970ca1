/**
 * The demo's payment processor: every tick it moves each payment in flight one step
 * (pending → processing → completed, or failed for about one in five), so the dashboard lives.
 */
import type { Logger } from '../../logger.ts';
import type { PaymentService } from './payment-service.ts';

export interface SimulatorOptions {
  readonly intervalMs: number;
  readonly failureRate?: number;
  readonly random?: () => number;
}

export class PaymentSimulator {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly payments: PaymentService,
    private readonly options: SimulatorOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async tick(): Promise<void> {
    const random = this.options.random ?? Math.random;
    const failureRate = this.options.failureRate ?? 0.2;
    // Only payments untouched for a whole interval move, so each step stays visible for a while.
    const due = Date.now() - this.options.intervalMs;
    for (const payment of await this.payments.store.inFlight()) {
      if (Date.parse(payment.updatedAt) > due) continue;
      const next = payment.status === 'pending' ? 'processing' : random() < failureRate ? 'failed' : 'completed';
      try {
        await this.payments.changeStatus(payment.paymentId, next, `sim-${payment.paymentId}-${next}`);
      } catch (error) {
        // An admin may have moved it meanwhile; the next tick sees the new state.
        this.logger.debug({ err: error, paymentId: payment.paymentId }, 'simulator step skipped');
      }
    }
  }
}
