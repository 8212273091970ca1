import { TestBed, type ComponentFixture } from '@angular/core/testing';
import { provideStore } from '@ngrx/store';
import { provideRealtime, RealtimeService } from '@payments-system/realtime';
import { provideRealtimeStore } from '@payments-system/realtime/store';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { ConnectionIndicator } from './connection-indicator';

describe('ConnectionIndicator (real RealtimeService and store, fake socket)', () => {
  let fixture: ComponentFixture<ConnectionIndicator>;
  let realtime: RealtimeService;
  let gateway: RealtimeTestingController;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [
        provideStore(),
        provideRealtime({ url: '/ws', token: 'a-token', autoConnect: false, heartbeat: false }),
        provideRealtimeTesting(),
        provideRealtimeStore(),
      ],
    });
    realtime = TestBed.inject(RealtimeService);
    gateway = TestBed.inject(RealtimeTestingController);
    fixture = TestBed.createComponent(ConnectionIndicator);
    await fixture.whenStable();
  });

  afterEach(() => {
    realtime.disconnect();
    gateway.verify();
  });

  const status = () => (fixture.nativeElement as HTMLElement).querySelector('[role="status"]')!;
  const text = () => (fixture.nativeElement as HTMLElement).textContent!.replace(/\s+/g, ' ').trim();
  const root = () => (fixture.nativeElement as HTMLElement).querySelector('.conn')!;

  it('goes connecting → Live, announced through a status role named Connection', async () => {
    realtime.connect();
    await fixture.whenStable();
    expect(root().getAttribute('data-state')).toBe('connecting');
    expect(status().textContent).toContain('Connecting');
    expect(status().getAttribute('aria-label')).toBe('Connection');

    gateway.latest.open();
    await fixture.whenStable();
    expect(root().getAttribute('data-state')).toBe('connected');
    expect(status().textContent!.trim()).toBe('Live');
  });

  it('shows reconnecting with a live countdown that screen readers do not hear tick', async () => {
    jasmine.clock().install();
    jasmine.clock().mockDate(new Date('2026-01-01T10:00:00Z'));
    try {
      gateway.randomValue = 0.999; // equal jitter: first delay close to 1000 ms
      realtime.connect();
      gateway.latest.open();
      gateway.latest.drop();
      await fixture.whenStable();
      expect(root().getAttribute('data-state')).toBe('reconnecting');
      expect(status().textContent).toContain('Reconnecting');
      expect(status().textContent).toContain('attempt 1');
      const countdown = (fixture.nativeElement as HTMLElement).querySelector('[data-testid="countdown"]')!;
      expect(countdown.getAttribute('aria-hidden')).toBe('true');
      expect(countdown.textContent).toBe('in 1 s');
    } finally {
      jasmine.clock().uninstall();
    }
  });

  it('offers Retry once it has stopped, and retrying connects again', async () => {
    realtime.connect();
    gateway.latest.open();
    gateway.latest.serverClose(4003); // session revoked: the library stops
    await fixture.whenStable();
    expect(root().getAttribute('data-state')).toBe('disconnected');
    expect(text()).toContain('Offline');
    expect(text()).toContain('Session ended');
    const sockets = gateway.sockets.length;
    (fixture.nativeElement as HTMLElement).querySelector('button')!.click();
    await fixture.whenStable();
    expect(gateway.sockets.length).toBe(sockets + 1);
    expect(root().getAttribute('data-state')).toBe('connecting');
  });
});
