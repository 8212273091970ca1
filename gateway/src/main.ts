/**
 * `npm run gateway`: the gateway, configured only by environment variables (see the configuration
 * table in README.md). The realtime core alone, or with the payments demo when DEMO_USERS=true.
 */
import { ConfigError, loadConfig } from './config.ts';
import { demoExtension } from './demo/extension.ts';
import { superviseProcess } from './process-supervisor.ts';
import { startGateway } from './server.ts';

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`gateway: ${error.message}\n`);
  process.exit(1);
}

const gateway = await startGateway(config.demoUsers ? { ...config, extension: demoExtension } : config);
superviseProcess(gateway);
gateway.logger.info({ url: gateway.url, ws: gateway.wsUrl }, `gateway listening on ${gateway.url}`);
