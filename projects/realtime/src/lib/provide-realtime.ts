import {
  inject,
  makeEnvironmentProviders,
  provideEnvironmentInitializer,
  type EnvironmentProviders,
  type Provider,
} from '@angular/core';
import {
  resolveRealtimeConfig,
  ɵREALTIME_CONFIG,
  ɵREALTIME_WEB_SOCKET_CTOR,
  type RealtimeConfig,
  type RealtimeTokenTransport,
  type WebSocketConstructor,
} from './config';
import { ɵREALTIME_TRANSPORT } from './connection/transport';
import { webSocketTransportFactory } from './connection/web-socket-transport.provider';
import { RealtimeService } from './realtime.service';

/** Kinds of {@link RealtimeFeature}. */
export enum RealtimeFeatureKind {
  QueryParamToken,
  WebSocketConstructor,
}

/** An optional feature of {@link provideRealtime}, made by a `withX()` function. */
export interface RealtimeFeature<K extends RealtimeFeatureKind = RealtimeFeatureKind> {
  readonly ɵkind: K;
  readonly ɵproviders: readonly Provider[];
  readonly ɵtokenTransport?: RealtimeTokenTransport;
}

/**
 * Sends the token as `?token=<JWT>` instead of the default `bearer` subprotocol.
 * Prefer the default: URLs end up in proxy logs (nginx's error log keeps the query string).
 */
export function withQueryParamToken(): RealtimeFeature<RealtimeFeatureKind.QueryParamToken> {
  return { ɵkind: RealtimeFeatureKind.QueryParamToken, ɵproviders: [], ɵtokenTransport: 'query' };
}

/** Uses another WebSocket implementation than the global one (a polyfill, or a fake in tests). */
export function withWebSocketConstructor(
  ctor: WebSocketConstructor,
): RealtimeFeature<RealtimeFeatureKind.WebSocketConstructor> {
  return {
    ɵkind: RealtimeFeatureKind.WebSocketConstructor,
    ɵproviders: [{ provide: ɵREALTIME_WEB_SOCKET_CTOR, useValue: ctor }],
  };
}

/**
 * Provides {@link RealtimeService} for an application (or an environment injector such as a lazy route).
 *
 * ```ts
 * export const appConfig: ApplicationConfig = {
 *   providers: [
 *     // Factories: `inject()` works only inside them (they run in the service's injection context).
 *     provideRealtime({ url: '/ws', token: () => inject(Auth).token, refreshToken: () => inject(Auth).refresh() }),
 *   ],
 * };
 * ```
 */
export function provideRealtime(config: RealtimeConfig, ...features: RealtimeFeature[]): EnvironmentProviders {
  const kinds = new Set<RealtimeFeatureKind>();
  for (const feature of features) {
    if (kinds.has(feature.ɵkind)) {
      throw new Error(`provideRealtime: feature ${RealtimeFeatureKind[feature.ɵkind]} was given twice`);
    }
    kinds.add(feature.ɵkind);
  }
  const transport = features.find((f) => f.ɵtokenTransport)?.ɵtokenTransport ?? 'subprotocol';
  const resolved = resolveRealtimeConfig(config, transport);
  return makeEnvironmentProviders([
    { provide: ɵREALTIME_CONFIG, useValue: resolved },
    { provide: ɵREALTIME_TRANSPORT, useFactory: webSocketTransportFactory },
    RealtimeService,
    ...features.flatMap((f) => f.ɵproviders),
    // Creates the service at startup so that autoConnect really connects when the app starts.
    resolved.autoConnect ? provideEnvironmentInitializer(() => void inject(RealtimeService)) : [],
  ]);
}
