/**
 * Issue 14: every start refusal is one clear line and exit code 1, seen as an operator sees it —
 * the server process spawned with a bad environment. And the `*_FILE` form of the secrets.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { ConfigError, loadConfig } from '../../config/load.ts';
import { SigningKeys } from '../../src/oidc/keys.ts';
import { masterKeyCheck, sealMasterKeyCheck } from '../../src/security/master-key-check.ts';
import { SecretBox } from '../../src/security/secret-box.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLIENT = [{ client_id: 'tax', client_secret: 'x'.repeat(40), redirect_uris: ['https://tax.example.gov/cb'] }];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `src/main.ts` with only `env` (plus PATH); returns when it exits, or — with `until` — when
 * a stdout line matches it (the process is then stopped with SIGTERM).
 */
function startServer(env: Record<string, string>, until?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', ...env },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit within 60 s\n${stdout}\n${stderr}`));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (until && until.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** vkhod's own lines on stderr (Node may add its own runtime warnings, e.g. oidc-provider on Node 20). */
const ownLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('vkhod:'));

describe('start refusals: one line, exit code 1 (issue 14)', function () {
  this.timeout(90_000);
  let dir: string;
  let base: Record<string, string>;
  const production = () => ({
    ...base,
    NODE_ENV: 'production',
    VKHOD_ISSUER: 'https://id.example.gov',
    VKHOD_CLIENTS: JSON.stringify(CLIENT),
    VKHOD_SMS_GATEWAY: 'console',
    VKHOD_MAIL_TRANSPORT: 'console',
  });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vkhod-refusals-'));
    base = {
      NODE_ENV: 'test',
      VKHOD_SQLITE_PATH: join(dir, 'vkhod.sqlite'),
      VKHOD_SECRET_KEY: randomBytes(32).toString('base64'),
      VKHOD_CLIENTS_FILE: join(dir, 'clients.json'),
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function refused(env: Record<string, string>, line: RegExp): Promise<void> {
    const run = await startServer(env);
    expect(run.code, run.stderr + run.stdout).to.equal(1);
    expect(ownLines(run.stderr), run.stderr).to.have.length(1);
    expect(ownLines(run.stderr)[0]).to.match(line);
    expect(run.stderr, 'no stack trace').to.not.match(/^\s+at /m);
  }

  it('refuses a master key that does not open the data in the store', async () => {
    const other = join(dir, 'other.sqlite');
    const store = openSqliteStore({ path: other, sweepIntervalMs: 0, backgroundCheckpoints: false });
    await sealMasterKeyCheck(store.settings, new SecretBox(randomBytes(32)));
    await store.close();
    await refused(
      { ...base, VKHOD_SQLITE_PATH: other },
      /^vkhod: configuration error: VKHOD_SECRET_KEY: the data in the store was encrypted under another master key/,
    );
  });

  it('refuses another master key on a store from before the marker, and leaves no marker under the wrong key', async () => {
    const older = join(dir, 'older.sqlite');
    const right = new SecretBox(randomBytes(32));
    let store = openSqliteStore({ path: older, sweepIntervalMs: 0, backgroundCheckpoints: false });
    await new SigningKeys(store.settings, right).load(3600);
    await store.close();
    await refused(
      { ...base, VKHOD_SQLITE_PATH: older },
      /^vkhod: configuration error: signing keys in the store cannot be decrypted: VKHOD_SECRET_KEY differs/,
    );
    store = openSqliteStore({ path: older, sweepIntervalMs: 0, backgroundCheckpoints: false });
    try {
      expect(await masterKeyCheck(store.settings, right)).to.equal('absent');
    } finally {
      await store.close();
    }
  });

  it('refuses an issuer with a query or a fragment', async () => {
    await refused(
      { ...base, VKHOD_ISSUER: 'http://localhost:3000/?tenant=1' },
      /^vkhod: configuration error: VKHOD_ISSUER: must not have a query/,
    );
  });

  it('refuses a HOST that is not an address to listen on', async () => {
    await refused({ ...base, HOST: 'http://0.0.0.0' }, /^vkhod: configuration error: HOST: must be an IP address or a host name/);
  });

  it('refuses a clients path that is a directory', async () => {
    const folder = join(dir, 'clients.d');
    mkdirSync(folder, { recursive: true });
    await refused({ ...base, VKHOD_CLIENTS_FILE: folder }, /^vkhod: configuration error: VKHOD_CLIENTS_FILE: .* is a directory/);
  });

  it('refuses a client in the clients file with a field nobody knows (a misspelt one would be dropped without a word)', async () => {
    await refused(
      { ...base, VKHOD_CLIENTS: JSON.stringify([{ ...CLIENT[0], post_logout_redirect_uri: 'https://rp.example.gov/out' }]) },
      /^vkhod: configuration error: .*clients file: client [\w-]+: unknown client metadata "post_logout_redirect_uri": check the spelling/,
    );
  });

  it('refuses production without any client', async () => {
    const env: Record<string, string> = production();
    delete env.VKHOD_CLIENTS;
    await refused(env, /^vkhod: configuration error: VKHOD_CLIENTS_FILE: no relying party .* production refuses to start without a client/);
  });

  it('starts in production with an empty clients file when the store holds a client; refuses with neither', async () => {
    const path = join(dir, 'clients-in-store.sqlite');
    const file = join(dir, 'empty-clients.json');
    writeFileSync(file, '[]\n');
    const env: Record<string, string> = { ...production(), VKHOD_SQLITE_PATH: path, VKHOD_CLIENTS_FILE: file };
    delete env.VKHOD_CLIENTS;
    // neither in the file nor in the store: refused, after the store was opened
    await refused(env, /^vkhod: configuration error: VKHOD_CLIENTS_FILE: no relying party .* nor in the store; production refuses/);
    const store = openSqliteStore({ path, sweepIntervalMs: 0, backgroundCheckpoints: false });
    try {
      const at = new Date().toISOString();
      await store.clients.create({
        clientId: 'tax',
        status: 'active',
        metadata: { redirect_uris: ['https://tax.example.gov/cb'] },
        secrets: [],
        source: 'store',
        version: 1,
        createdAt: at,
        updatedAt: at,
      });
    } finally {
      await store.close();
    }
    const run = await startServer(env, /vkhod is listening/);
    expect(run.code, run.stderr).to.equal(0);
    expect(ownLines(run.stderr)).to.deep.equal([]);
  });

  it('refuses production with the demo relying party on', async () => {
    await refused(
      { ...production(), VKHOD_DEMO_RP: 'true' },
      /^vkhod: configuration error: VKHOD_DEMO_RP: the demo relying party cannot be on in production/,
    );
  });

  it('refuses production with an SMS gateway over plain http', async () => {
    await refused(
      { ...production(), VKHOD_SMS_GATEWAY: 'http', VKHOD_SMS_HTTP_URL: 'http://sms.example.gov/send' },
      /^vkhod: configuration error: VKHOD_SMS_HTTP_URL: must be an https:\/\/ URL in production/,
    );
  });

  it('refuses a secret given both ways', async () => {
    const file = join(dir, 'secret-both');
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`);
    await refused(
      { ...base, VKHOD_SECRET_KEY_FILE: file },
      /^vkhod: configuration error: VKHOD_SECRET_KEY_FILE: set either VKHOD_SECRET_KEY or/,
    );
  });

  it('starts in production with the secret from a file, and warns in the JSON log about a missing trusted-CA file', async () => {
    const file = join(dir, 'secret-key');
    const key = randomBytes(32);
    writeFileSync(file, `${key.toString('base64')}\n`);
    const env: Record<string, string> = {
      ...production(),
      VKHOD_SQLITE_PATH: join(dir, 'production.sqlite'),
      VKHOD_SECRET_KEY_FILE: file,
      VKHOD_ESIGN_TRUSTED_CAS_FILE: join(dir, 'no-such-ca.pem'),
    };
    delete env.VKHOD_SECRET_KEY;
    const run = await startServer(env, /vkhod is listening/);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; setting?: string; msg: string });
    const warning = lines.find((l) => l.setting === 'VKHOD_ESIGN_TRUSTED_CAS_FILE');
    expect(warning, run.stdout).to.not.equal(undefined);
    expect(warning!.level).to.equal(40);
    expect(warning!.msg).to.include('no-such-ca.pem');
    // The start sealed the marker under the key from the file: the next start checks it.
    const store = openSqliteStore({ path: env.VKHOD_SQLITE_PATH!, sweepIntervalMs: 0, backgroundCheckpoints: false });
    try {
      expect(await masterKeyCheck(store.settings, new SecretBox(key))).to.equal('opens');
    } finally {
      await store.close();
    }
  });
});

describe('secret settings from files (*_FILE)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'vkhod-secret-files-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = (extra: Record<string, string>) => ({
    NODE_ENV: 'test',
    VKHOD_SQLITE_PATH: join(dir, 'x.sqlite'),
    VKHOD_CLIENTS: '[]',
    ...extra,
  });

  it('reads each secret from its file, without the trailing newline', () => {
    const key = randomBytes(32);
    const files = {
      VKHOD_SECRET_KEY_FILE: [`${key.toString('base64')}\n`],
      VKHOD_SMS_HTTP_TOKEN_FILE: ['token-from-file\r\n'],
      VKHOD_SMTP_URL_FILE: ['smtps://user:pass@smtp.example.gov:465\n'],
      MONGODB_URI_FILE: ['mongodb://vkhod:pw@db1,db2/vkhod?replicaSet=rs0\n'],
    };
    const paths = Object.fromEntries(
      Object.entries(files).map(([name, [content]]) => {
        const path = join(dir, name);
        writeFileSync(path, content!);
        return [name, path];
      }),
    );
    const config = loadConfig(
      env({ ...paths, VKHOD_SMS_GATEWAY: 'http', VKHOD_SMS_HTTP_URL: 'https://sms.example.gov', VKHOD_MAIL_TRANSPORT: 'smtp' }),
    );
    expect(config.secretKey.equals(key)).to.equal(true);
    expect(config.sms).to.include({ token: 'token-from-file' });
    expect(config.mail).to.include({ url: 'smtps://user:pass@smtp.example.gov:465' });
    expect(config.store).to.include({ kind: 'mongo', uri: 'mongodb://vkhod:pw@db1,db2/vkhod?replicaSet=rs0' });
  });

  it('names the setting when the file cannot be read or is empty', () => {
    expect(() => loadConfig(env({ VKHOD_SECRET_KEY_FILE: join(dir, 'missing') })))
      .to.throw(ConfigError)
      .with.property('message')
      .that.matches(/^VKHOD_SECRET_KEY_FILE: cannot read .*missing \(ENOENT\)$/);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => loadConfig(env({ MONGODB_URI_FILE: join(dir, 'empty') }))).to.throw(ConfigError, /^MONGODB_URI_FILE: .* is empty$/);
  });
});
