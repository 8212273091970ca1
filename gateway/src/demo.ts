/**
 * `npm start`: the demo on embedded defaults. Same gateway as `npm run gateway`, but a missing
 * JWT_SECRET is replaced by a random development secret, and tokens for the demo users are
 * printed so the socket can be tried at once.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from './config.ts';
import { signAccessToken } from './auth/tokens.ts';
import { DEMO_USERS } from './demo/users.ts';
import { startGateway } from './server.ts';

const generatedSecret = process.env['JWT_SECRET'] ? undefined : randomBytes(32).toString('hex');
let config;
try {
  config = loadConfig({ ...process.env, JWT_SECRET: process.env['JWT_SECRET'] ?? generatedSecret });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(1);
}

const gateway = await startGateway(config);
gateway.logger.info({ url: gateway.url, ws: gateway.wsUrl }, `demo gateway listening on ${gateway.url}`);

const lines = [
  '',
  `Demo gateway on ${gateway.url} (WebSocket ${gateway.wsUrl})`,
  generatedSecret ? 'JWT secret: generated for this run (set JWT_SECRET to choose one)' : 'JWT secret: from JWT_SECRET',
  'Demo users and access tokens (valid 1 hour):',
  ...DEMO_USERS.map(
    (user) => `  ${user.role.padEnd(8)} ${user.userId.padEnd(9)} ${signAccessToken(config.jwtSecret, user, { expiresInSeconds: 3600 })}`,
  ),
  `Try: npx wscat -c "${gateway.wsUrl}" -s bearer -s <token>   then send {"type":"ping"}`,
  '',
];
process.stderr.write(lines.join('\n') + '\n');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void gateway.close().then(() => process.exit(0)));
}
