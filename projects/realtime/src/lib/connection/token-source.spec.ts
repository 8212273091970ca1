import { EnvironmentInjector, inject, InjectionToken, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { BehaviorSubject, EMPTY, firstValueFrom, of } from 'rxjs';
import type { RealtimeTokenRefresher, RealtimeTokenSource } from '../config';
import { TokenSource } from './token-source';

const TOKEN = new InjectionToken<string>('TOKEN');

function source(token: RealtimeTokenSource, refresher: RealtimeTokenRefresher | null = null) {
  return new TokenSource(token, refresher, TestBed.inject(EnvironmentInjector));
}

describe('TokenSource', () => {
  beforeEach(() => TestBed.configureTestingModule({ providers: [{ provide: TOKEN, useValue: 'from-di' }] }));

  it('reads a string, a signal, an observable and a factory that uses inject()', async () => {
    expect(await firstValueFrom(source('plain').next())).toBe('plain');
    expect(await firstValueFrom(source(signal('from-signal')).next())).toBe('from-signal');
    expect(await firstValueFrom(source(of('from-observable')).next())).toBe('from-observable');
    expect(await firstValueFrom(source(() => inject(TOKEN)).next())).toBe('from-di');
  });

  it('waits for a non-empty token, and says so while waiting', () => {
    const app = new BehaviorSubject<string | null>(null);
    const tokens = source(app);
    const got: string[] = [];
    tokens.next().subscribe((t) => got.push(t));
    expect(tokens.waiting).toBeTrue();
    app.next('');
    expect(got).toEqual([]);
    app.next('t1');
    expect(got).toEqual(['t1']);
    expect(tokens.waiting).toBeFalse();
    expect(tokens.inUse).toBe('t1');
  });

  it('emits app token changes after the first value only, distinct', () => {
    const app = new BehaviorSubject<string | null>('t1');
    const tokens = source(app);
    const changes: Array<string | null> = [];
    tokens.changes$.subscribe((c) => changes.push(c.token));
    app.next('t1');
    app.next(null);
    app.next('t2');
    expect(changes).toEqual([null, 't2']);
  });

  it('says when a change ends the login session: a sign-out, another sid or user; not a refreshed token of the same session', () => {
    const jwt = (claims: object) => `e30.${btoa(JSON.stringify(claims))}.c2ln`;
    const app = new BehaviorSubject<string | null>(jwt({ userId: 'bob', sid: 's1', exp: 1 }));
    const ended: Array<[string | null, boolean]> = [];
    source(app).changes$.subscribe((c) => ended.push([c.token === null ? null : 'token', c.sessionEnded]));
    app.next(jwt({ userId: 'bob', sid: 's1', exp: 2 })); // the same session, a newer token
    app.next(null); // signed out
    app.next(jwt({ userId: 'bob', sid: 's2', exp: 3 })); // signed in again: a new session begins, none ended
    app.next(jwt({ userId: 'alice', sid: 's3', exp: 4 })); // another user, no sign-out in between
    app.next(jwt({ sub: 'alice', exp: 5 })); // no sid: the user tells
    app.next(jwt({ sub: 'alice', exp: 6 }));
    app.next('opaque-1');
    app.next('opaque-2'); // opaque tokens: every new one is a new session
    expect(ended).toEqual([
      ['token', false],
      [null, true],
      ['token', false],
      ['token', true],
      ['token', true],
      ['token', false],
      ['token', true],
      ['token', true],
    ]);
  });

  it('uses a refreshed token until the app token changes', async () => {
    const app = new BehaviorSubject<string | null>('t1');
    const refresher = jasmine.createSpy('refresher').and.returnValue(Promise.resolve('refreshed'));
    const tokens = source(app, refresher);
    tokens.changes$.subscribe();
    expect(tokens.canRefresh).toBeTrue();
    expect(await firstValueFrom(tokens.refresh('t1'))).toBe('refreshed');
    expect(refresher).toHaveBeenCalledOnceWith('t1');
    expect(await firstValueFrom(tokens.next())).toBe('refreshed');
    app.next('t2');
    expect(await firstValueFrom(tokens.next())).toBe('t2');
  });

  it('gives null when the refresher gives no token, its error when it fails, and runs it in the injection context', async () => {
    expect(await firstValueFrom(source('t', () => EMPTY).refresh('t'))).toBeNull();
    expect(await firstValueFrom(source('t', () => of('')).refresh('t'))).toBeNull();
    expect(await firstValueFrom(source('t', () => Promise.resolve(null)).refresh('t'))).toBeNull();
    await expectAsync(firstValueFrom(source('t', () => Promise.reject(new Error('offline'))).refresh('t'))).toBeRejectedWithError('offline');
    expect(await firstValueFrom(source('t', () => of(inject(TOKEN))).refresh('t'))).toBe('from-di');
    expect(source('t').canRefresh).toBeFalse();
  });
});
