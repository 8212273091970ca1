import { SendQueue } from './send-queue';

describe('SendQueue', () => {
  it('keeps order, refuses past its capacity without dropping older items, and drains once', () => {
    const queue = new SendQueue<string>(2);
    expect([queue.offer('a'), queue.offer('b'), queue.offer('c')]).toEqual([true, true, false]);
    expect(queue.size).toBe(2);
    expect(queue.drain()).toEqual(['a', 'b']);
    expect(queue.drain()).toEqual([]);
  });

  it('refuses everything with capacity 0, and clear() empties it', () => {
    expect(new SendQueue<string>(0).offer('a')).toBeFalse();
    const queue = new SendQueue<string>(3);
    queue.offer('a');
    queue.clear();
    expect(queue.size).toBe(0);
  });
});
