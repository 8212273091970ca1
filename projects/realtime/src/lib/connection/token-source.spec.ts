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
    tokens.changes$.subscribe((t) => changes.push(t));
    app.next('t1');
    app.next(null);
    app.next('t2');
    expect(changes).toEqual([null, 't2']);
  });

  it('uses a refreshed token until the app token changes', async () => {
    const app = new BehaviorSubject<string | null>('t1');
    const tokens = source(app, () => Promise.resolve('refreshed'));
    tokens.changes$.subscribe();
    expect(tokens.canRefresh).toBeTrue();
    expect(await firstValueFrom(tokens.refresh())).toBe('refreshed');
    expect(await firstValueFrom(tokens.next())).toBe('refreshed');
    app.next('t2');
    expect(await firstValueFrom(tokens.next())).toBe('t2');
  });

  it('errors when the refresher gives nothing usable, and runs it in the injection context', async () => {
    await expectAsync(firstValueFrom(source('t', () => EMPTY).refresh())).toBeRejectedWithError(/completed without a token/);
    await expectAsync(firstValueFrom(source('t', () => of('')).refresh())).toBeRejectedWithError(/returned no token/);
    expect(await firstValueFrom(source('t', () => of(inject(TOKEN))).refresh())).toBe('from-di');
    expect(source('t').canRefresh).toBeFalse();
  });
});
