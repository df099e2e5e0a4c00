/** Signing-key states derived from stored times and the clock (src/oidc/keys.ts, issue 14). */
import { expect } from 'chai';
import { keyId, keyStates, publishedJwks, type KeySet, type StoredKey } from '../../src/oidc/keys.ts';

const T = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (offsetSeconds: number) => new Date(T + offsetSeconds * 1000).toISOString();
const key = (kid: string, alg: string, createdAt: number, activatesAt?: number, retiredAt?: number): StoredKey => ({
  jwk: { kid, alg, kty: alg === 'RS256' ? 'RSA' : 'EC' },
  createdAt: iso(createdAt),
  ...(activatesAt !== undefined ? { activatesAt: iso(activatesAt) } : {}),
  ...(retiredAt !== undefined ? { retiredAt: iso(retiredAt) } : {}),
});
const states = (set: KeySet, at: number, retention = 3600) =>
  Object.fromEntries(keyStates(set, T + at * 1000, retention).map((s) => [s.status.kid, s.status.state]));

describe('signing key states', () => {
  const set: KeySet = { keys: [key('new', 'RS256', 0, 600), key('old', 'RS256', -86400), key('ec', 'ES256', -86400)] };

  it('a rotated key is pending until its activation, then active; the one before it retires then', () => {
    expect(states(set, 0)).to.deep.equal({ new: 'pending', old: 'active', ec: 'active' });
    expect(states(set, 600)).to.deep.equal({ new: 'active', old: 'retired', ec: 'active' });
  });

  it('the JWKS lists the signing keys first (node-oidc-provider signs with the first of an algorithm)', () => {
    expect(publishedJwks(set, T, 3600).keys.map((k) => k.kid)).to.deep.equal(['old', 'ec', 'new']);
    expect(publishedJwks(set, T + 600_000, 3600).keys.map((k) => k.kid)).to.deep.equal(['new', 'ec', 'old']);
  });

  it('a retired key is published for the retention after the key that replaced it activated, then dropped', () => {
    expect(states(set, 600 + 3599)).to.include({ old: 'retired' });
    expect(states(set, 600 + 3600)).to.not.have.property('old');
  });

  it('reads sets written before issue 14 (no activation time; retiredAt on rotated-out keys)', () => {
    const legacy: KeySet = { keys: [key('current', 'RS256', -60), key('previous', 'RS256', -86400, undefined, -60)] };
    expect(states(legacy, 0)).to.deep.equal({ current: 'active', previous: 'retired' });
    expect(states(legacy, 3600)).to.deep.equal({ current: 'active' });
  });
});

describe('key ids', () => {
  it('begin with a letter or digit even when the thumbprint begins with - or _ (the CLI reads a leading - as an option)', () => {
    const uuid = '0f8e2a4c-1111-4222-8333-444455556666';
    expect(keyId('-RjN3_q-x9ZkA1b2C3d4E5f6G7h8', uuid)).to.equal('RjN3qx9ZkA1b2C3d-0f8e2a4c');
    expect(keyId('__Ab-cd', uuid)).to.equal('Abcd-0f8e2a4c');
    for (const thumbprint of ['-abc', '_abc', 'a-bc', 'Zz09']) expect(keyId(thumbprint, uuid)).to.match(/^[A-Za-z0-9]+-[0-9a-f]{8}$/);
  });
});
