import { inject, InjectionToken } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { provideRealtime } from './provide-realtime';
import { RealtimeService } from './realtime.service';

const RUNTIME_ENV = new InjectionToken<{ wsUrl: string; token: string }>('RUNTIME_ENV');

describe('provideRealtime(() => config)', () => {
  it('evaluates the factory in an injection context when the app starts (runtime configuration)', () => {
    TestBed.configureTestingModule({
      providers: [
        { provide: RUNTIME_ENV, useValue: { wsUrl: 'wss://runtime.example/ws', token: 'from-env' } },
        provideRealtime(() => ({ url: inject(RUNTIME_ENV).wsUrl, token: inject(RUNTIME_ENV).token })),
        provideRealtimeTesting(),
      ],
    });
    TestBed.inject(RealtimeService); // autoConnect: true
    const socket = TestBed.inject(RealtimeTestingController).latest;
    expect(socket.url).toBe('wss://runtime.example/ws');
    expect(socket.bearerToken).toBe('from-env');
  });

  it("validates the factory's result when it runs, naming the option", () => {
    TestBed.configureTestingModule({ providers: [provideRealtime(() => ({ url: 'http://nope', token: 't' })), provideRealtimeTesting()] });
    expect(() => TestBed.inject(RealtimeService)).toThrowError(/url must start with ws:\/\/, wss:\/\/ or \//);
  });

  it('with autoConnect: false, creates nothing at startup and connects on connect()', () => {
    TestBed.configureTestingModule({ providers: [provideRealtime(() => ({ url: '/ws', token: 't', autoConnect: false })), provideRealtimeTesting()] });
    const ctl = TestBed.inject(RealtimeTestingController);
    TestBed.inject(RealtimeService).connect();
    expect(ctl.sockets.length).toBe(1);
  });
});
