import { EnvironmentInjector } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { RealtimeTestingController } from '@payments-system/realtime/testing';
import { BehaviorSubject, Subject } from 'rxjs';
import { TS } from '../../spec-helpers/server-messages';
import { resolveRealtimeConfig, type RealtimeConfig } from '../config';
import { canTransition, type RealtimeConnectionState } from './connection-state';
import { TokenSource } from './token-source';
import type { RealtimeTransportEvent } from './transport';
import { WebSocketTransport } from './web-socket-transport';

/** The transport alone: fake sockets, a token source, fake timers; no RealtimeService. */
function setup(overrides: Partial<RealtimeConfig> = {}) {
  const config = resolveRealtimeConfig({ url: 'ws://gw.test/ws', token: 't1', heartbeat: false, reconnect: { jitter: 'none' }, ...overrides });
  const ctl = new RealtimeTestingController();
  const tokens = new TokenSource(config.token, config.refreshToken, TestBed.inject(EnvironmentInjector));
  const online = new Subject<void>();
  const transport = new WebSocketTransport(
    { config, tokens, WebSocketCtor: ctl.ɵctor, random: () => 0.5, online$: online, location: null, checkHandshake: ctl.ɵcheckHandshake },
    { resumePoint: () => '1765447200000-1' },
  );
  const events: string[] = [];
  const states: RealtimeConnectionState[] = [transport.snapshot.state];
  transport.events$.subscribe((e: RealtimeTransportEvent) => {
    events.push(e.type === 'state' ? `state:${e.snapshot.state}` : e.type === 'error' ? `error:${e.error.kind}` : e.type);
    if (e.type === 'state') states.push(e.snapshot.state);
  });
  return { transport, ctl, events, states, online };
}

describe('WebSocketTransport (fake sockets, fake timers)', () => {
  beforeEach(() => {
    jasmine.clock().install();
    jasmine.clock().mockDate(new Date(TS));
  });
  afterEach(() => jasmine.clock().uninstall());

  it('announces the open before connected, so the facade restores its session before anyone sees connected', () => {
    const { transport, ctl, events } = setup();
    const writesDuringOpen: boolean[] = [];
    transport.events$.subscribe((e) => {
      if (e.type === 'open') writesDuringOpen.push(transport.write({ type: 'ping', correlationId: 'during-open' }));
    });
    transport.connect();
    expect(ctl.latest.url).toBe('ws://gw.test/ws?since=1765447200000-1');
    expect(transport.write({ type: 'ping' })).toBeFalse();
    ctl.latest.open();
    expect(events).toEqual(['state:connecting', 'open', 'state:connected']);
    expect(writesDuringOpen).toEqual([true]);
    expect(ctl.latest.messages.map((m) => m.correlationId)).toEqual(['during-open']);
  });

  it('reports a lost socket, then the scheduled retry, then the retry starting', () => {
    const { transport, ctl, events } = setup();
    transport.connect();
    ctl.latest.open();
    events.length = 0;
    ctl.latest.serverClose(1001, 'server shutting down');
    expect(events).toEqual(['error:closed-by-server', 'state:reconnecting']);
    expect(transport.snapshot).toEqual({ state: 'reconnecting', attempt: 1, nextRetryAt: Date.now() + 1000 });
    jasmine.clock().tick(1000);
    expect(transport.snapshot).toEqual({ state: 'reconnecting', attempt: 1, nextRetryAt: null });
    expect(ctl.sockets.length).toBe(2);
  });

  it('ends through one path from every state: disconnected, socket closed with 1000, nothing scheduled afterwards', () => {
    const scenarios: Record<string, (s: ReturnType<typeof setup>) => void> = {
      connecting: ({ transport }) => transport.connect(),
      connected: ({ transport, ctl }) => (transport.connect(), ctl.latest.open()),
      'waiting to retry': ({ transport, ctl }) => (transport.connect(), ctl.latest.drop()),
      'refreshing the token': ({ transport, ctl }) => (transport.connect(), ctl.latest.open(), ctl.latest.serverClose(4001)),
    };
    for (const [name, reach] of Object.entries(scenarios)) {
      const s = setup({ refreshToken: () => new Subject<string>() }); // a refresh that never answers
      reach(s);
      const opened = s.ctl.latest.readyState === s.ctl.latest.OPEN;
      const sockets = s.ctl.sockets.length;
      s.transport.disconnect();
      expect(s.transport.snapshot.state).withContext(name).toBe('disconnected');
      if (opened) expect(s.ctl.latest.closedByClient).withContext(name).toEqual({ code: 1000, reason: 'client disconnect' });
      jasmine.clock().tick(120_000);
      s.online.next();
      expect(s.ctl.sockets.length).withContext(`${name}: no socket after disconnect()`).toBe(sockets);
      expect(s.states.every((to, i) => i === 0 || canTransition(s.states[i - 1], to))).withContext(name).toBeTrue();
    }
  });

  it('restarts through the same path on reconnect(): the old socket closed, a fresh schedule', () => {
    const { transport, ctl, states } = setup();
    transport.connect();
    ctl.latest.drop();
    jasmine.clock().tick(1000);
    ctl.latest.open();
    transport.reconnect();
    expect(ctl.sockets[1].closedByClient?.code).toBe(1000);
    expect(ctl.sockets.length).toBe(3);
    expect(transport.snapshot).toEqual({ state: 'reconnecting', attempt: 0, nextRetryAt: null });
    expect(states).toEqual(['disconnected', 'connecting', 'reconnecting', 'reconnecting', 'connected', 'reconnecting']);
  });

  it('connects straight away when a token source that starts empty gets its first token', () => {
    const token = new BehaviorSubject<string | null>(null);
    const { transport, ctl, states } = setup({ token });
    transport.connect();
    expect(ctl.sockets.length).toBe(0);
    token.next('login-1');
    expect(ctl.latest.bearerToken).toBe('login-1');
    ctl.latest.open();
    expect(states).toEqual(['disconnected', 'connecting', 'connected']);
  });

  it('closes without an error on logout and connects again when a token arrives', () => {
    const token = new BehaviorSubject<string | null>('login-1');
    const { transport, ctl, events } = setup({ token });
    transport.connect();
    ctl.latest.open();
    token.next(null);
    expect(transport.snapshot.state).toBe('disconnected');
    expect(events.filter((e) => e.startsWith('error'))).toEqual([]);
    token.next('login-2');
    expect(ctl.latest.bearerToken).toBe('login-2');
  });

  it('turns a malformed frame into a protocol error and keeps the socket', () => {
    const { transport, ctl, events } = setup();
    transport.connect();
    ctl.latest.open();
    ctl.latest.receiveRaw('{"type":"pong"}');
    expect(events.at(-1)).toBe('error:protocol');
    expect(transport.snapshot.state).toBe('connected');
  });

  it('completes its events on destroy()', () => {
    const { transport } = setup();
    let completed = false;
    transport.events$.subscribe({ complete: () => (completed = true) });
    transport.connect();
    transport.destroy();
    expect(completed).toBeTrue();
  });
});
