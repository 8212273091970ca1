/**
 * Renders nginx/templates/*.template the way the nginx image's entrypoint does (envsubst with
 * the defined variables only): `${NAME}` is replaced for each given NAME, nginx's own
 * `$variables` are left alone. A placeholder without a value is an error, not an empty string.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TEMPLATE_PATH = fileURLToPath(new URL('../../templates/gateway.conf.template', import.meta.url));

export const PLACEHOLDERS = [
  'NGINX_LISTEN_HTTP',
  'NGINX_LISTEN_HTTPS',
  'PUBLIC_HOST',
  'GATEWAY_1',
  'GATEWAY_2',
  'TLS_CERT',
  'TLS_KEY',
  'APP_ROOT',
  'NGINX_ACCESS_LOG',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export function renderTemplate(template: string, values: Readonly<Record<Placeholder, string>>): string {
  const rendered = template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (whole, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) throw new Error(`unknown placeholder ${whole} in the nginx template`);
    const value = values[name as Placeholder];
    if (value === undefined || value === '') throw new Error(`no value for ${whole}`);
    if (/[;{}\s]/.test(value)) throw new Error(`${name} must not contain spaces, ';' or braces: ${value}`);
    return value;
  });
  return rendered;
}

export function renderGatewayConf(values: Readonly<Record<Placeholder, string>>): string {
  return renderTemplate(readFileSync(TEMPLATE_PATH, 'utf8'), values);
}
