import { DEFAULT_RECONNECT } from '../config';
import { backoffDelay, baseBackoffDelay } from './backoff';

describe('backoffDelay', () => {
  const table = DEFAULT_RECONNECT.delaysMs;

  it('follows the guide table 1, 2, 4, 8, 16, then 30 s for every later attempt', () => {
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i + 1, table, 'none'));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 30000]);
    expect(baseBackoffDelay(50, table)).toBe(30000);
  });

  it('keeps equal jitter within [delay/2, delay)', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const base = baseBackoffDelay(attempt, table);
      expect(backoffDelay(attempt, table, 'equal', () => 0)).toBe(base / 2);
      const high = backoffDelay(attempt, table, 'equal', () => 0.999999);
      expect(high).toBeLessThan(base);
      expect(high).toBeGreaterThanOrEqual(base - 1);
    }
  });

  it('keeps full jitter within [0, delay)', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const base = baseBackoffDelay(attempt, table);
      expect(backoffDelay(attempt, table, 'full', () => 0)).toBe(0);
      const high = backoffDelay(attempt, table, 'full', () => 0.999999);
      expect(high).toBeLessThan(base);
      expect(high).toBeGreaterThanOrEqual(base - 1);
    }
  });

  it('spreads a fleet: 1000 clients with Math.random get many distinct delays inside the bounds', () => {
    const delays = Array.from({ length: 1000 }, () => backoffDelay(6, table, 'equal'));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(15000);
    expect(Math.max(...delays)).toBeLessThan(30000);
    expect(new Set(delays).size).toBeGreaterThan(500);
  });
});
