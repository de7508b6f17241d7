import { describe, expect, it } from 'vitest';
import { truncateAddress } from './client-network.js';

describe('truncateAddress', () => {
  const cases: Array<[string | undefined, string | null]> = [
    ['203.0.113.77', '203.0.113.0'],
    ['10.1.2.3', '10.1.2.0'],
    ['::ffff:198.51.100.9', '198.51.100.0'],
    ['2001:db8:abcd:12:34:56:78:9a', '2001:db8:abcd::'],
    ['2001:0DB8:00AB:FFFF::1', '2001:db8:ab::'],
    ['2001:db8::1', '2001:db8:0::'],
    ['::1', '0:0:0::'],
    ['fe80::1%eth0', 'fe80:0:0::'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0::'],
    ['not-an-address', null],
    ['203.0.113', null],
    ['', null],
    [undefined, null],
  ];

  it.each(cases)('truncates %s', (address, expected) => {
    expect(truncateAddress(address)).toBe(expected);
  });

  it('truncation drops host bits', () => {
    const first = truncateAddress('2001:db8:abcd:1::1');
    const second = truncateAddress('2001:db8:abcd:ffff:ffff:ffff:ffff:ffff');

    expect(first).toBe(second);
  });
});
