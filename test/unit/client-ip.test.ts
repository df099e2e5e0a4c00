/** Which address is the client, for each VKHOD_TRUST_PROXY setting (DESIGN §6). */
import { expect } from 'chai';
import { parseProxyTrust, type ProxyTrust } from '../../config/proxy-trust.ts';
import { clientIpResolver } from '../../src/security/client-ip.ts';
import { loadConfig } from '../../config/load.ts';

const trust = (v: string) => parseProxyTrust(v) as ProxyTrust | null;

describe('VKHOD_TRUST_PROXY and the client IP', () => {
  it('parses false, true, a hop count and a list of addresses/networks', () => {
    expect(trust('false')).to.equal(null);
    expect(trust('0')).to.equal(null);
    expect(trust('true')).to.deep.equal({ hops: 1 });
    expect(trust('2')).to.deep.equal({ hops: 2 });
    expect(trust('10.0.0.1, 172.16.0.0/12 ,fd00::/8')).to.deep.equal({ networks: ['10.0.0.1', '172.16.0.0/12', 'fd00::/8'] });
    expect(parseProxyTrust('10.0.0.0/33')).to.have.property('problem');
    expect(parseProxyTrust('proxy.internal')).to.have.property('problem');
  });

  it('refuses a bad value at start, naming the variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', VKHOD_TRUST_PROXY: 'maybe' })).to.throw(/VKHOD_TRUST_PROXY/);
    expect(loadConfig({ NODE_ENV: 'test', VKHOD_TRUST_PROXY: '1' })).to.include({ trustProxy: true });
  });

  it('no trust: the peer, whatever the header says', () => {
    expect(clientIpResolver(null)('10.0.0.5', '1.2.3.4')).to.equal('10.0.0.5');
  });

  it('hops: the address before the last n proxies; what the client prepends is never read', () => {
    const one = clientIpResolver({ hops: 1 });
    expect(one('10.0.0.1', '6.6.6.6, 203.0.113.7')).to.equal('203.0.113.7');
    expect(one('10.0.0.1', '203.0.113.7')).to.equal('203.0.113.7');
    expect(one('10.0.0.1', undefined), 'no header: the peer').to.equal('10.0.0.1');
    const two = clientIpResolver({ hops: 2 });
    expect(two('10.0.0.1', '6.6.6.6, 203.0.113.7, 10.0.0.2')).to.equal('203.0.113.7');
  });

  it('networks: skips trusted proxies from the right, stops at the first address that is not one', () => {
    const resolve = clientIpResolver({ networks: ['10.0.0.0/8', '2001:db8::1'] });
    expect(resolve('10.0.0.1', '6.6.6.6, 203.0.113.7, 10.1.2.3')).to.equal('203.0.113.7');
    expect(resolve('::ffff:10.0.0.1', '203.0.113.7'), 'an IPv4 peer on a dual-stack socket').to.equal('203.0.113.7');
    expect(resolve('2001:db8::1', '2001:db8::99')).to.equal('2001:db8::99');
    expect(resolve('198.51.100.1', '203.0.113.7'), 'a peer that is no trusted proxy is the client').to.equal('198.51.100.1');
    expect(resolve('10.0.0.1', '10.0.0.2, 10.0.0.3'), 'only proxies: the left-most of them').to.equal('10.0.0.2');
  });
});
