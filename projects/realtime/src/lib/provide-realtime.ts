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
import { sharedTransportFactory } from './shared/shared-connection.provider';

/** Kinds of {@link RealtimeFeature}. */
export enum RealtimeFeatureKind {
  QueryParamToken,
  WebSocketConstructor,
  SharedConnection,
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
 * One socket per browser: the tabs of one login session share the socket of one of them (elected with Web Locks,
 * talking over `BroadcastChannel`), instead of opening one each. The API does not change: every tab injects
 * `RealtimeService`, joins rooms (refcounted across tabs), sends and gets its own replies. When the owning tab closes,
 * crashes or freezes, another takes over and resumes where the events stopped. Where the browser lacks
 * `BroadcastChannel`, and on the server, each tab keeps its own socket. See the README's "One socket per browser".
 */
export function withSharedConnection(): RealtimeFeature<RealtimeFeatureKind.SharedConnection> {
  return {
    ɵkind: RealtimeFeatureKind.SharedConnection,
    ɵproviders: [{ provide: ɵREALTIME_TRANSPORT, useFactory: sharedTransportFactory }],
  };
}

/**
 * Provides {@link RealtimeService} for an application (or an environment injector such as a lazy route).
 *
 * `config` is the options object, or a factory of it that runs in an injection context when the service is first
 * needed (configuration known only at runtime, or per request with SSR): `provideRealtime(() => ({ url: inject(ENV).wsUrl, ... }))`.
 * An object is validated at once; a factory's result when it runs. Either way a bad option throws, naming it.
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
export function provideRealtime(
  config: RealtimeConfig | (() => RealtimeConfig),
  ...features: RealtimeFeature[]
): EnvironmentProviders {
  const kinds = new Set<RealtimeFeatureKind>();
  for (const feature of features) {
    if (kinds.has(feature.ɵkind)) {
      throw new Error(`provideRealtime: feature ${RealtimeFeatureKind[feature.ɵkind]} was given twice`);
    }
    kinds.add(feature.ɵkind);
  }
  const transport = features.find((f) => f.ɵtokenTransport)?.ɵtokenTransport ?? 'subprotocol';
  const configProvider: Provider =
    typeof config === 'function'
      ? { provide: ɵREALTIME_CONFIG, useFactory: () => resolveRealtimeConfig(config(), transport) }
      : { provide: ɵREALTIME_CONFIG, useValue: resolveRealtimeConfig(config, transport) };
  return makeEnvironmentProviders([
    configProvider,
    { provide: ɵREALTIME_TRANSPORT, useFactory: webSocketTransportFactory },
    RealtimeService,
    ...features.flatMap((f) => f.ɵproviders),
    // Creates the service at startup so that autoConnect really connects when the app starts.
    provideEnvironmentInitializer(() => {
      if (inject(ɵREALTIME_CONFIG).autoConnect) inject(RealtimeService);
    }),
  ]);
}
