/** Angular wiring of the default transport: its dependencies come from `provideRealtime()`'s providers. */
import { DOCUMENT, isPlatformServer } from '@angular/common';
import { inject, Injector, PLATFORM_ID } from '@angular/core';
import { fromEvent, NEVER } from 'rxjs';
import { ɵREALTIME_CONFIG, ɵREALTIME_HANDSHAKE_CHECK, ɵREALTIME_ONLINE, ɵREALTIME_RANDOM, ɵREALTIME_WEB_SOCKET_CTOR } from '../config';
import { TokenSource } from './token-source';
import type { RealtimeTransportFactory, RealtimeTransportLink } from './transport';
import { WebSocketTransport } from './web-socket-transport';

/** Makes WebSocket transports, and the token sources they read, from the providers (run in their injection context). */
export interface WebSocketTransportMaker {
  tokens(): TokenSource;
  create(tokens: TokenSource, link: RealtimeTransportLink): WebSocketTransport;
}

export function webSocketTransportMaker(): WebSocketTransportMaker {
  const config = inject(ɵREALTIME_CONFIG);
  const injector = inject(Injector);
  const isServer = isPlatformServer(inject(PLATFORM_ID));
  const document = inject(DOCUMENT, { optional: true });
  const view = document?.defaultView;
  const WebSocketCtor = inject(ɵREALTIME_WEB_SOCKET_CTOR);
  const random = inject(ɵREALTIME_RANDOM);
  const checkHandshake = inject(ɵREALTIME_HANDSHAKE_CHECK);
  const online$ = inject(ɵREALTIME_ONLINE, { optional: true }) ?? (!isServer && view ? fromEvent(view, 'online') : NEVER);
  return {
    tokens: () => new TokenSource(config.token, config.refreshToken, injector),
    create: (tokens, link) => {
      const location = document?.location ?? null;
      return new WebSocketTransport({ config, tokens, WebSocketCtor, random, online$, location, checkHandshake }, link);
    },
  };
}

/** The default {@link RealtimeTransportFactory}; runs in the injection context of `provideRealtime()`'s providers. */
export function webSocketTransportFactory(): RealtimeTransportFactory {
  const maker = webSocketTransportMaker();
  return (link) => maker.create(maker.tokens(), link);
}
