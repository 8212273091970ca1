import { asyncScheduler, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { heartbeat } from './heartbeat';

describe('heartbeat (virtual time)', () => {
  const options = { intervalMs: 5, timeoutMs: 2 };
  let scheduler: TestScheduler;
  beforeEach(() => (scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))));

  it('pings every interval and stays silent while each ping is answered in time', () => {
    const pingsAt: number[] = [];
    scheduler.run(({ expectObservable }) => {
      const frames = new Subject<void>();
      const ping = () => {
        pingsAt.push(scheduler.now());
        asyncScheduler.schedule(() => frames.next(), 1); // the gateway answers 1 ms later
      };
      expectObservable(heartbeat(options, frames, ping, () => new Error('dead')), '^ 21ms !').toBe('');
    });
    expect(pingsAt).toEqual([5, 10, 15, 20]);
  });

  it('errors with dead() when no frame follows a ping within the timeout', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const frames = hot('------a');
      const dead = new Error('heartbeat timeout');
      // Pings at 5 and 10; the frame at 6 answers the first, nothing answers the second: dead at 12.
      expectObservable(heartbeat(options, frames, () => undefined, () => dead), '^ 30ms !').toBe('------------#', undefined, dead);
    });
  });
});
