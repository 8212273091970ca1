import { inject, Injectable } from '@angular/core';
import { paymentRoom } from '@payments-system/protocol';
import { RealtimeRequestError, RealtimeService } from '@payments-system/realtime';

// Imperative: joined until unfollow(), re-joined after every reconnect.
@Injectable({ providedIn: 'root' })
export class PaymentFollower {
  private readonly realtime = inject(RealtimeService);

  /** `null` when following, or why the gateway refused. */
  async follow(paymentId: string): Promise<string | null> {
    try {
      await this.realtime.subscribe(paymentRoom(paymentId));
      return null;
    } catch (e) {
      if (e instanceof RealtimeRequestError && e.code === 'FORBIDDEN') return 'You cannot follow this payment';
      throw e;
    }
  }

  async unfollow(paymentId: string): Promise<void> {
    await this.realtime.unsubscribe(paymentRoom(paymentId));
  }
}
