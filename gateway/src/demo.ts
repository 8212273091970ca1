/**
 * `npm start`: the demo on embedded defaults. The same gateway as `npm run gateway`, with the
 * payments demo (demo/extension.ts) and what a newcomer needs switched on: a generated development
 * JWT secret (when JWT_SECRET is unset), the demo users, the payment simulator and the built app
 * at http://localhost:3000.
 * Any variable set in the environment still wins.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.ts';
import { demoExtension } from './demo/extension.ts';
import { DEMO_USERS } from './demo/users/demo-users.ts';
import { superviseProcess } from './process-supervisor.ts';
import { startGateway } from './server.ts';

const appDir = fileURLToPath(new URL('../../dist/shell/browser', import.meta.url));
const generatedSecret = process.env['JWT_SECRET'] ? undefined : randomBytes(32).toString('hex');
const demoDefaults = {
  JWT_SECRET: generatedSecret,
  DEMO_USERS: 'true',
  SIMULATOR_INTERVAL_MS: '3000',
  STATIC_DIR: existsSync(appDir) ? appDir : undefined,
};

let config;
try {
  config = loadConfig({ ...demoDefaults, ...withoutEmpty(process.env) });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(1);
}

const gateway = await startGateway({ ...config, extension: demoExtension });
superviseProcess(gateway);
gateway.logger.info({ url: gateway.url, ws: gateway.wsUrl }, `demo gateway listening on ${gateway.url}`);

process.stderr.write(
  [
    '',
    `  Payments realtime demo: ${gateway.url}${config.staticDir ? '' : '  (app not built: run `npx ng build shell`)'}`,
    `  WebSocket: ${gateway.wsUrl}`,
    generatedSecret ? '  JWT secret: generated for this run (set JWT_SECRET to choose one)' : '  JWT secret: from JWT_SECRET',
    '  Demo accounts:',
    ...DEMO_USERS.map((user) => `    ${user.role.padEnd(9)} ${user.email.padEnd(18)} password: ${user.password}`),
    '',
  ].join('\n') + '\n',
);

function withoutEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => Boolean(entry[1])));
}
