/**
 * The files an unprivileged foreground nginx needs in a test run's folder: the rendered site,
 * a main file in the shape of nginx/conf/nginx.conf with every path inside the folder, the temp
 * folders and empty logs, all owned by `nobody` when nginx runs as that user.
 */
import { chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's nginx, or NGINX_BIN. */
export const NGINX = process.env['NGINX_BIN'] ?? '/usr/sbin/nginx';

export const NOBODY = { uid: 65534, gid: 65534 } as const;

export interface NginxRunDir {
  readonly runDir: string;
  /** The rendered site (renderGatewayConf). */
  readonly site: string;
  readonly errorLogPath: string;
  readonly accessLogPath: string;
  readonly errorLogLevel: 'info' | 'notice' | 'warn';
  readonly workerConnections: number;
  readonly asNobody: boolean;
}

export function prepareNginxRunDir(options: NginxRunDir): string {
  const { runDir } = options;
  writeFileSync(join(runDir, 'gateway.conf'), options.site);
  const mainConf = join(runDir, 'nginx.conf');
  // One foreground process (no master), so killing it can never orphan a worker.
  writeFileSync(
    mainConf,
    [
      'daemon off;',
      'master_process off;',
      `pid ${join(runDir, 'nginx.pid')};`,
      `error_log ${options.errorLogPath} ${options.errorLogLevel};`,
      `events { worker_connections ${options.workerConnections}; }`,
      'http {',
      '  include /etc/nginx/mime.types;',
      '  default_type application/octet-stream;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(runDir, 'tmp', kind)};`),
      `  include ${join(runDir, 'gateway.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  mkdirSync(join(runDir, 'tmp'));
  writeFileSync(options.errorLogPath, '');
  writeFileSync(options.accessLogPath, '');
  if (options.asNobody) chownTree(runDir);
  return mainConf;
}

function chownTree(path: string): void {
  chownSync(path, NOBODY.uid, NOBODY.gid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry));
}
