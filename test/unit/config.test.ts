import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../config/load.ts';

const SECRET = randomBytes(32).toString('base64');
const CLIENT = { client_id: 'rp-basic', client_secret: 'x'.repeat(40), redirect_uris: ['https://rp.example.test/cb'] };

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A minimal environment that never touches ./data or ./config of the working tree. */
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    VKHOD_SECRET_KEY: SECRET,
    VKHOD_CLIENTS_FILE: join(dir, 'clients.json'),
    VKHOD_DEV_SECRET_FILE: join(dir, 'dev-secret.key'),
    VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
    ...extra,
  });

  const failure = (environment: NodeJS.ProcessEnv): ConfigError => {
    try {
      loadConfig(environment);
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return err as ConfigError;
    }
    expect.fail('loadConfig accepted a bad configuration');
  };

  it('loads defaults for development', () => {
    const config = loadConfig(env());
    expect(config).to.include({ production: false, port: 3000, issuer: 'http://localhost:3000', demoRp: true });
    expect(config.store).to.deep.equal({
      kind: 'sqlite',
      path: join(dir, 'vkhod.sqlite'),
      walMaxBytes: 64 * 1024 * 1024,
      busyDeadlineMs: 3000,
      lowSpaceBytes: 512 * 1024 * 1024,
      auditRetentionDays: 365,
      consumedRetentionSeconds: 86400,
    });
    expect(config.drainSeconds).to.equal(8);
    expect(config.secretKey.length).to.equal(32);
    expect(config.passwordPolicy).to.deep.equal({ minLength: 8, classes: ['upper', 'lower', 'digit', 'symbol'] });
  });

  it('names PORT when it is not a port number', () => {
    expect(failure(env({ PORT: 'abc' })).message).to.match(/^PORT: /);
    expect(failure(env({ PORT: '70000' })).message).to.match(/^PORT: /);
    expect(failure(env({ PORT: '-1' })).message).to.match(/^PORT: /);
  });

  it('names other bad values with their variable', () => {
    expect(failure(env({ VKHOD_LOGIN_MAX_FAILURES: '0' })).message).to.match(/^VKHOD_LOGIN_MAX_FAILURES: /);
    expect(failure(env({ VKHOD_PASSWORD_CLASSES: 'upper,emoji' })).message).to.match(/^VKHOD_PASSWORD_CLASSES/);
    expect(failure(env({ VKHOD_SECRET_KEY: 'short' })).message).to.match(/^VKHOD_SECRET_KEY: /);
    expect(failure(env({ MONGODB_URI: 'postgres://x' })).message).to.match(/^MONGODB_URI: /);
  });

  it('reads the per-IP authorization budget, and names a bad one', () => {
    expect(loadConfig(env()).limits.authorizeMaxPerIp).to.equal(600);
    expect(loadConfig(env({ VKHOD_AUTHORIZE_MAX_PER_IP: '5000' })).limits.authorizeMaxPerIp).to.equal(5000);
    for (const bad of ['0', '-3', 'many', '2.5'])
      expect(failure(env({ VKHOD_AUTHORIZE_MAX_PER_IP: bad })).message, bad).to.match(/^VKHOD_AUTHORIZE_MAX_PER_IP: /);
  });

  it('requires VKHOD_SECRET_KEY in production', () => {
    const environment = env({ NODE_ENV: 'production', VKHOD_ISSUER: 'https://id.example.ru', VKHOD_DEV_OUTBOX: 'false' });
    delete environment.VKHOD_SECRET_KEY;
    expect(failure(environment).message).to.equal('VKHOD_SECRET_KEY: required in production');
    expect(existsSync(join(dir, 'dev-secret.key')), 'no development secret written in production').to.equal(false);
  });

  it('requires an https issuer in production', () => {
    expect(failure(env({ NODE_ENV: 'production', VKHOD_ISSUER: 'http://id.example.ru' })).message).to.match(/^VKHOD_ISSUER: /);
  });

  it('refuses a secret that decodes to fewer than 32 bytes', () => {
    expect(failure(env({ VKHOD_SECRET_KEY: Buffer.alloc(24, 7).toString('base64') })).message).to.match(/^VKHOD_SECRET_KEY: .*32 bytes/);
  });

  it('refuses client JSON that does not parse, naming where it came from', () => {
    expect(failure(env({ VKHOD_CLIENTS: '[{"client_id": ' })).message).to.equal('VKHOD_CLIENTS: not valid JSON');
    writeFileSync(join(dir, 'clients.json'), '{oops');
    expect(failure(env()).message).to.equal('VKHOD_CLIENTS_FILE: not valid JSON');
  });

  it('refuses a client with client_secret_basic and no secret', () => {
    const clients = JSON.stringify([
      { client_id: 'rp-nosecret', redirect_uris: ['https://rp.example.test/cb'], token_endpoint_auth_method: 'client_secret_basic' },
    ]);
    const message = failure(env({ VKHOD_CLIENTS: clients })).message;
    expect(message).to.match(/^VKHOD_CLIENTS: /);
    expect(message).to.include('rp-nosecret').and.include('client_secret required for client_secret_basic');
  });

  it('refuses a client whose jwks key is no usable public key (bad numbers, a short RSA key), naming it', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const good = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const client = (key: object) =>
      JSON.stringify([
        {
          client_id: 'rp-jwt',
          redirect_uris: ['https://rp.example.test/cb'],
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [key] },
        },
      ]);
    for (const key of [
      { kty: 'RSA', kid: 'k1', n: '!!', e: 'AQAB' },
      { ...short, kid: 'k1' },
      { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'k1' },
    ]) {
      const message = failure(env({ VKHOD_CLIENTS: client(key) })).message;
      expect(message, JSON.stringify(key)).to.match(/^VKHOD_CLIENTS: /);
      expect(message).to.include('rp-jwt').and.include('jwks key 1 (kid k1) is not a usable public key');
    }
    expect(() => loadConfig(env({ VKHOD_CLIENTS: client(good) }))).to.not.throw();
  });

  it('refuses other client mistakes with a clear message', () => {
    const noRedirect = JSON.stringify([{ client_id: 'rp-x', client_secret: 'x'.repeat(40) }]);
    expect(failure(env({ VKHOD_CLIENTS: noRedirect })).message).to.include('redirect_uris required');
    const twice = JSON.stringify([CLIENT, CLIENT]);
    expect(failure(env({ VKHOD_CLIENTS: twice })).message).to.include('declared twice');
    const notArray = JSON.stringify(CLIENT);
    expect(failure(env({ VKHOD_CLIENTS: notArray })).message).to.match(/^VKHOD_CLIENTS: /);
  });

  it('refuses redirect URIs a code must not go to (http off the loopback, a user name before the host, a * host) and a name with direction overrides', () => {
    const withUris = (redirect_uris: string[], extra: object = {}) => JSON.stringify([{ ...CLIENT, redirect_uris, ...extra }]);
    for (const [bad, says] of [
      ['http://rp.example.gov/cb', 'http only on the loopback'],
      ['https://good.example@evil.example/cb', 'no user name or password'],
      ['https://*.example.gov/cb', 'no * in the host'],
    ] as const) {
      expect(failure(env({ VKHOD_CLIENTS: withUris([bad]) })).message, bad).to.include(says);
      expect(
        failure(env({ VKHOD_CLIENTS: withUris(['https://rp.example.gov/cb'], { post_logout_redirect_uris: [bad] }) })).message,
        bad,
      ).to.include(says);
    }
    for (const good of ['https://rp.example.gov/cb', 'http://localhost:8080/cb', 'http://127.0.0.1:9/cb', 'http://[::1]/cb'])
      expect(() => loadConfig(env({ VKHOD_CLIENTS: withUris([good]) })), good).to.not.throw();
    const spoofed = withUris(['https://rp.example.gov/cb'], { client_name: 'Налоговая \u202eсервис' });
    expect(failure(env({ VKHOD_CLIENTS: spoofed })).message).to.include('client_name');
  });

  it('reads valid clients from VKHOD_CLIENTS with defaults filled in', () => {
    const config = loadConfig(env({ VKHOD_CLIENTS: JSON.stringify([CLIENT]) }));
    expect(config.clients).to.have.length(1);
    expect(config.clients[0]).to.include({ client_id: 'rp-basic', token_endpoint_auth_method: 'client_secret_basic' });
    expect(config.clients[0]!.grant_types).to.deep.equal(['authorization_code']);
  });

  it('creates and then reuses a development secret when none is configured', () => {
    const environment = env();
    delete environment.VKHOD_SECRET_KEY;
    const first = loadConfig(environment);
    expect(existsSync(join(dir, 'dev-secret.key'))).to.equal(true);
    expect(loadConfig(environment).secretKey.equals(first.secretKey)).to.equal(true);
  });
});
