/**
 * `npm run token -- [--role ADMIN] [--user u1] [--email a@b] [--ttl 900]`: prints an access
 * token signed with $JWT_SECRET, for wscat, curl and manual testing.
 */
import { parseArgs } from 'node:util';
import { isRole } from '@payments-system/protocol';
import { signAccessToken } from '../auth/tokens.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'CUSTOMER' },
    user: { type: 'string', default: 'user_1' },
    email: { type: 'string' },
    ttl: { type: 'string', default: '900' },
  },
});

const secret = process.env['JWT_SECRET'];
const ttl = Number(values.ttl);
if (!secret) fail('JWT_SECRET is required (the same secret the gateway runs with)');
if (!isRole(values.role)) fail(`--role must be ADMIN, CUSTOMER or VENDOR, not ${values.role}`);
if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a whole number of seconds');

process.stdout.write(
  signAccessToken(secret, { userId: values.user, email: values.email ?? `${values.user}@example.com`, role: values.role }, { expiresInSeconds: ttl }) + '\n',
);

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`);
  process.exit(2);
}
