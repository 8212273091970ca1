import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey } from './client-address.ts';

describe('addressKey', () => {
  it('counts IPv4 addresses one by one, also when mapped into IPv6', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
  });

  it('counts IPv6 addresses by their /64', () => {
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:DB8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('1::3:4:5:6:1.2.3.4'), '1:0:3:4::/64');
  });

  it('keeps anything else as it is', () => {
    assert.equal(addressKey('unknown'), 'unknown');
  });
});
