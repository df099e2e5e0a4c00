import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { DEFAULT_BANK_CLAIMS, DEV_BANK, DEV_ESIGN_DIR } from '../../config/federation.ts';

const SECRET = randomBytes(32).toString('base64');
const BANK = { id: 'sber', name: 'СберБанк', issuer: 'https://id.bank.example/', client_id: 'vkhod', client_secret: 's'.repeat(32) };

describe('federation settings (VKHOD_BANKS, VKHOD_ESIGN_*)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-fed-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    VKHOD_SECRET_KEY: SECRET,
    VKHOD_CLIENTS_FILE: join(dir, 'clients.json'),
    VKHOD_BANKS_FILE: join(dir, 'banks.json'),
    VKHOD_DEV_SECRET_FILE: join(dir, 'dev-secret.key'),
    VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
    ...extra,
  });
  const banks = (list: unknown, extra: Record<string, string> = {}) => env({ VKHOD_BANKS: JSON.stringify(list), ...extra });
  const failure = (environment: NodeJS.ProcessEnv): string => {
    try {
      loadConfig(environment);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as Error).message;
    }
    expect.fail('loadConfig accepted a bad bank list');
  };

  it('fills in the defaults: client_secret_basic, the standard claim names, not accredited, the issuer without a trailing slash', () => {
    const [bank] = loadConfig(banks([BANK])).banks;
    expect(bank).to.deep.include({
      id: 'sber',
      issuer: 'https://id.bank.example',
      token_endpoint_auth_method: 'client_secret_basic',
      accredited: false,
      userinfo: true,
      scope: 'openid profile phone email',
    });
    expect(bank!.claims).to.deep.equal(DEFAULT_BANK_CLAIMS);
  });

  it('takes a claim mapping and a private key instead of a secret', () => {
    const [bank] = loadConfig(
      banks([
        {
          ...BANK,
          client_secret: undefined,
          private_key_jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
          claims: { snils: 'ext.snils' },
          accredited: true,
        },
      ]),
    ).banks;
    expect(bank!.token_endpoint_auth_method).to.equal('private_key_jwt');
    expect(bank!.claims.snils).to.equal('ext.snils');
    expect(bank!.claims.family_name).to.equal('family_name');
  });

  it('names the bank and the setting in one line for each mistake', () => {
    expect(failure(env({ VKHOD_BANKS: '[{' }))).to.equal('VKHOD_BANKS: not valid JSON');
    expect(failure(banks({ id: 'x' }))).to.match(/^VKHOD_BANKS: banks: /);
    expect(failure(banks([{ ...BANK, id: 'Сбер' }]))).to.equal(
      'VKHOD_BANKS: bank 0 (Сбер) id: 2–32 lower-case latin letters, digits or dashes',
    );
    expect(failure(banks([{ ...BANK, issuer: 'not a url' }]))).to.match(/^VKHOD_BANKS: bank 0 \(sber\) issuer: /);
    expect(failure(banks([{ ...BANK, client_secret: undefined }]))).to.equal(
      'VKHOD_BANKS: bank 0 (sber): give exactly one of client_secret or private_key_jwk',
    );
    expect(failure(banks([{ ...BANK, scope: 'profile' }]))).to.equal('VKHOD_BANKS: bank 0 (sber): scope must include openid');
    expect(failure(banks([{ ...BANK, claims: { snils: 'a b' } }]))).to.match(
      /^VKHOD_BANKS: bank 0 \(sber\) claims\.snils: a claim name or a dotted path/,
    );
    expect(failure(banks([{ ...BANK, colour: 'green' }]))).to.match(/^VKHOD_BANKS: bank 0 \(sber\): .*colour/);
    expect(failure(banks([BANK, BANK]))).to.equal('VKHOD_BANKS: banks: bank sber: declared twice');
  });

  it('reads VKHOD_BANKS_FILE and names it in errors', () => {
    writeFileSync(join(dir, 'banks.json'), JSON.stringify([BANK]));
    expect(loadConfig(env()).banks.map((b) => b.id)).to.deep.equal(['sber']);
    writeFileSync(join(dir, 'banks.json'), JSON.stringify([{ ...BANK, issuer: 'ftp://x' }]));
    expect(failure(env())).to.match(
      new RegExp(`^VKHOD_BANKS_FILE \\(${join(dir, 'banks.json').replace(/[.\\/]/g, '\\$&')}\\): bank 0 \\(sber\\) issuer`),
    );
  });

  it('requires https banks in production', () => {
    const production = { NODE_ENV: 'production', VKHOD_ISSUER: 'https://id.example.gov' };
    expect(failure(banks([{ ...BANK, issuer: 'http://bank.example' }], production))).to.equal(
      'VKHOD_BANKS: bank 0 (sber) issuer: must be https:// in production',
    );
    expect(loadConfig(banks([BANK], production)).banks).to.have.length(1);
  });

  it('uses the development bank and test CA folder in development only', () => {
    const dev = loadConfig(env());
    expect(dev.banks.map((b) => [b.id, b.issuer, b.accredited])).to.deep.equal([[DEV_BANK.id, DEV_BANK.issuer, true]]);
    expect(dev.esign).to.deep.equal({ trustedCas: DEV_ESIGN_DIR, crls: DEV_ESIGN_DIR, challengeSeconds: 600 });
    const test = loadConfig(env({ NODE_ENV: 'test' }));
    expect(test.banks).to.deep.equal([]);
    expect(test.esign.trustedCas).to.equal(undefined);
    expect(loadConfig(env({ VKHOD_BANKS: '[]' })).banks, 'an explicit empty list turns the default off').to.deep.equal([]);
    expect(failure(env({ VKHOD_ESIGN_CHALLENGE_SECONDS: '5' }))).to.match(/^VKHOD_ESIGN_CHALLENGE_SECONDS: /);
  });

  it('fetches CRLs from distribution points only when asked, with a timeout and a cache', () => {
    expect(loadConfig(env()).esign.crlFetch, 'off by default').to.equal(undefined);
    expect(loadConfig(env({ VKHOD_ESIGN_CRL_FETCH: 'on' })).esign.crlFetch).to.deep.equal({ timeoutMs: 5000, cacheSeconds: 3600 });
    expect(
      loadConfig(env({ VKHOD_ESIGN_CRL_FETCH: 'on', VKHOD_ESIGN_CRL_FETCH_TIMEOUT_MS: '2000', VKHOD_ESIGN_CRL_CACHE_SECONDS: '600' })).esign
        .crlFetch,
    ).to.deep.equal({ timeoutMs: 2000, cacheSeconds: 600 });
    expect(failure(env({ VKHOD_ESIGN_CRL_FETCH_TIMEOUT_MS: '0' }))).to.match(/^VKHOD_ESIGN_CRL_FETCH_TIMEOUT_MS: /);
  });

  it('offers the CryptoPro plug-in only where its API script is configured or vendored (no request for a missing file)', () => {
    expect(loadConfig(env()).esign.cadesApi, 'vkhod does not ship cadesplugin_api.js').to.equal(undefined);
    expect(loadConfig(env({ VKHOD_ESIGN_CADES_API: '/static/vendor/cadesplugin_api.js' })).esign.cadesApi).to.equal(
      '/static/vendor/cadesplugin_api.js',
    );
    expect(loadConfig(env({ VKHOD_ESIGN_CADES_API: 'https://cdn.example.gov/cadesplugin_api.js' })).esign.cadesApi).to.equal(
      'https://cdn.example.gov/cadesplugin_api.js',
    );
    for (const bad of ['javascript:alert(1)', '//evil.example/x.js', 'http://cdn.example.gov/x.js']) {
      expect(failure(env({ VKHOD_ESIGN_CADES_API: bad })), bad).to.match(/^VKHOD_ESIGN_CADES_API: /);
    }
  });
});
