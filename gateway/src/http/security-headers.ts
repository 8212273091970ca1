/**
 * Security headers on every HTTP response of the gateway (helmet, through koa-helmet), so that
 * `npm start` and `npm run gateway`, which no nginx fronts, are served as safely as the stack.
 * The policy is nginx's (nginx/templates/gateway.conf.template), which hides these headers of the
 * gateway's answers and sends its own: one policy per response, never two.
 *
 * Left to the TLS edge: HSTS (a property of the public host, sent by nginx). `connect-src 'self'`
 * covers the app's same-origin WebSocket (`ws:`/`wss:` to the page's own host, CSP Level 3).
 */
import helmet from 'koa-helmet';
import type { Middleware } from 'koa';

export function securityHeaders(): Middleware {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
