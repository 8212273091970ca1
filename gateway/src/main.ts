/**
 * `npm run gateway`: the gateway alone, configured only by environment variables
 * (see the configuration table in README.md).
 */
import { ConfigError, loadConfig } from './config.ts';
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

const gateway = await startGateway(config);
superviseProcess(gateway);
gateway.logger.info({ url: gateway.url, ws: gateway.wsUrl }, `gateway listening on ${gateway.url}`);
