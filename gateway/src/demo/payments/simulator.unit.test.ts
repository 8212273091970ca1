import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { PublishRequest } from '@payments-system/protocol';
import { PaymentService } from './payment-service.ts';
import { InMemoryPaymentStore } from './payment-store.ts';
import { PaymentSimulator } from './simulator.ts';

describe('PaymentSimulator', () => {
  it('moves each payment in flight one step per tick, and announces each change', async () => {
    const published: PublishRequest[] = [];
    const service = new PaymentService(new InMemoryPaymentStore(), async (request) => (published.push(request), String(published.length)), pino({ level: 'silent' }));
    const ok = await service.create({ ownerId: 'alice', amount: '1.00', currency: 'EUR', description: 'ok' });
    const bad = await service.create({ ownerId: 'bob', amount: '2.00', currency: 'EUR', description: 'bad' });
    const rolls = [0.9, 0.1];
    const simulator = new PaymentSimulator(service, { intervalMs: 0 + 100, random: () => rolls.shift() ?? 0.9 }, pino({ level: 'silent' }));
    // Pretend both were last touched long ago.
    for (const payment of await service.store.list()) Object.assign(payment, { updatedAt: new Date(0).toISOString() });

    await simulator.tick();
    assert.deepEqual((await service.store.list()).map((p) => p.status), ['processing', 'processing']);
    for (const payment of await service.store.list()) Object.assign(payment, { updatedAt: new Date(0).toISOString() });
    await simulator.tick();
    assert.equal((await service.store.get(ok.paymentId))?.status, 'completed');
    assert.equal((await service.store.get(bad.paymentId))?.status, 'failed');
    await simulator.tick();
    assert.equal((await service.store.inFlight()).length, 0, 'terminal payments stay put');

    const updates = published.filter((p) => p.type === 'payment:updated');
    assert.equal(updates.length, 2 * 3 * 2, '3 changes each (created, processing, terminal), to owner and admins');
    const notices = published.filter((p) => p.type === 'notification:new');
    assert.deepEqual(notices.map((n) => [n.room, n.type === 'notification:new' && n.payload.level]), [
      ['user:alice', 'success'],
      ['user:bob', 'error'],
    ]);
  });
});
