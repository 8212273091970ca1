import { TestBed } from '@angular/core/testing';
import { provideRealtime } from '@payments-system/realtime';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { ConnectionStatusComponent } from './connection-status.component';

describe('ConnectionStatusComponent', () => {
  beforeEach(() => {
    jasmine.clock().install(); // the backoff waits run on timers
    TestBed.configureTestingModule({
      providers: [provideRealtime({ url: '/ws', token: 'test-token' }), provideRealtimeTesting()],
    });
  });
  afterEach(() => jasmine.clock().uninstall());

  it('shows the live state, the last payment, and a reconnect after a drop', () => {
    const fixture = TestBed.createComponent(ConnectionStatusComponent);
    const gateway = TestBed.inject(RealtimeTestingController); // plays the gateway
    const text = () => {
      fixture.detectChanges();
      return (fixture.nativeElement as HTMLElement).textContent;
    };

    gateway.latest.open(); // the handshake succeeds
    expect(text()).toContain('Live');
    gateway.latest.receive({
      type: 'payment:updated',
      payload: { paymentId: 'pay_1', status: 'completed', amount: '10.00', currency: 'EUR' },
      timestamp: new Date().toISOString(),
    }); // receive() throws on a frame the protocol rejects: a typo here fails the test
    expect(text()).toContain('pay_1 is completed');

    gateway.latest.drop(); // the connection is lost (1006)
    expect(text()).toContain('Reconnecting (attempt 1)');
    jasmine.clock().tick(1000); // the first backoff wait (at most 1 s)
    gateway.latest.open();
    expect(text()).toContain('Live');
    expect(gateway.sockets.length).toBe(2);
  });
});
