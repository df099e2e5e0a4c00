/**
 * `vkhod store export` / `store import` (issue 14), run as an operator runs them, SQLite to SQLite
 * (the MongoDB side is the same port, covered by the contract suite when MONGODB_URI is set): a
 * round trip copies accounts with their keys and consents, audit, settings, letters, relying parties
 * (tombstones and secret hashes too) and ESIA oids (an oid never changes nor is reused), and no
 * tokens nor used ESIA states; both print the same counts and checksum; an import refuses a store that holds data
 * unless --force, and a damaged file. Also `vkhod audit`, the CLI's reading of the trail.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteStore } from '../../adapters/sqlite/index.ts';
import { cliSandbox, type CliSandbox } from '../support/cli.ts';
import { fakeAccount, fakeEvent, keysFor } from '../contract/fixtures.ts';
import { digestOf } from '../../scripts/cli/store.ts';
import { ESIA_OID_BASE, type StoredClient } from '../../src/store.ts';

describe('CLI: vkhod store export / import, vkhod audit', function () {
  // Each run starts a Node process that compiles the CLI: slow on a loaded machine.
  this.timeout(180_000);
  let source: CliSandbox;
  let target: CliSandbox;
  let file: string;
  const account = fakeAccount({
    extra: { consents: [{ clientId: 'rp-basic', scopes: ['openid', 'profile'], at: '2026-01-01T00:00:00.000Z' }] },
  });
  const events = [
    fakeEvent(account.id, { type: 'signin.password', at: '2026-01-02T00:00:00.000Z' }),
    fakeEvent(account.id, { type: 'consent', at: '2026-01-03T00:00:00.000Z' }),
    fakeEvent(undefined, { type: 'admin.signed_in', at: '2026-01-04T00:00:00.000Z', actor: 'operator:ivanova' }),
  ];
  // relying parties in the store: a live one with its secret hashes (one in its overlap), and a tombstone
  const rp = (clientId: string, status: StoredClient['status']): StoredClient => ({
    clientId,
    status,
    metadata: { client_name: clientId, redirect_uris: [`https://${clientId}.example.test/cb`] },
    secrets: [
      { hash: `${clientId}-old`, createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-02T00:00:00.000Z' },
      { hash: `${clientId}-new`, createdAt: '2026-01-02T00:00:00.000Z' },
    ],
    source: 'store',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });
  const clients = [rp('rp-live', 'active'), { ...rp('rp-gone', 'deleted'), version: 2 }];
  const oids: number[] = [];

  before(async () => {
    source = cliSandbox();
    target = cliSandbox();
    file = join(String(source.env.VKHOD_SQLITE_PATH), '..', 'export.jsonl');
    const store = openSqliteStore({ path: String(source.env.VKHOD_SQLITE_PATH), sweepIntervalMs: 0 });
    try {
      await store.accounts.create(account, [...keysFor(account), { kind: 'passport', value: '4506123456', shared: true }], [events[0]!]);
      for (const e of events.slice(1)) await store.audit.append(e);
      await store.settings.put('signing-keys', '{"sealed":"…"}', 0);
      await store.letters.create({ id: 'letter-1', accountId: account.id, status: 'sent', createdAt: '2026-01-05T00:00:00.000Z' });
      await store.oidcAdapter('RefreshToken').upsert('rt-1', { accountId: account.id, grantId: 'g1' }, 3600);
      await store.oidcAdapter('Session').upsert('s-1', { accountId: account.id }, 3600);
      await store.clients.create(clients[0]!);
      await store.clients.create({ ...clients[1]!, status: 'active' });
      await store.clients.update(clients[1]!, 1);
      // ESIA oids: the account's, and one of an account since erased (its oid is never handed out again)
      oids.push(await store.esia.oidOf(account.id), await store.esia.oidOf('erased-account'));
      await store.esia.useOnce('rp-live|state-1', new Date(Date.now() + 600_000).toISOString());
    } finally {
      await store.close();
    }
  });
  after(() => {
    source.close();
    target.close();
  });

  const checksumOf = (out: string) => /checksum ([0-9a-f]{64})/.exec(out)?.[1];

  it('exports to a new 0600 file and prints the counts and checksum', async () => {
    const run = await source.run('store', 'export', file);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include(
      'exported 1 accounts, 3 audit events, 1 settings, 1 letters, 2 clients, 2 ESIA oids from the sqlite store',
    );
    expect(checksumOf(run.stdout)).to.be.a('string');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.to.include('rt-1');
    expect(text).not.to.include('"s-1"');
    // used ESIA states are short-lived: not moved
    expect(text).not.to.include('state-1');
    // an existing file is never overwritten
    const again = await source.run('store', 'export', file);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include('exists already');
  });

  it('imports into an empty store: the same counts and checksum, verified, and the data works', async () => {
    const exported = await source.run('store', 'version');
    expect(exported.stdout).to.match(/sqlite store, schema version \d+/);
    const run = await target.run('store', 'import', file);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include(
      'imported 1 accounts, 3 audit events, 1 settings, 1 letters, 2 clients, 2 ESIA oids into the sqlite store',
    );
    expect(run.stdout).to.include('verified: the store holds exactly what was exported');
    const exportChecksum = checksumOf((await source.run('store', 'export', `${file}.2`)).stdout);
    expect(checksumOf(run.stdout)).to.equal(exportChecksum);

    const store = openSqliteStore({ path: String(target.env.VKHOD_SQLITE_PATH), sweepIntervalMs: 0 });
    try {
      expect(await store.accounts.findById(account.id)).to.deep.equal(account);
      expect((await store.accounts.findByKey({ kind: 'phone', value: account.phone! }))?.id).to.equal(account.id);
      expect((await store.accounts.holdersOf({ kind: 'passport', value: '4506123456' })).map((a) => a.id)).to.deep.equal([account.id]);
      expect((await store.audit.query({ limit: 10 })).events).to.deep.equal([...events].reverse());
      expect(await store.settings.get('signing-keys')).to.deep.equal({ value: '{"sealed":"…"}', version: 1 });
      expect(await store.oidcAdapter('RefreshToken').find('rt-1')).to.equal(undefined);
      expect((await digestOf(store)).checksum).to.equal(exportChecksum);
      // the relying parties, tombstone and secret hashes included
      expect(await store.clients.list()).to.deep.equal([clients[1], clients[0]]);
      // an oid never changes after a move, nor is one handed out again (not even the erased account's)
      expect(oids[0]).to.be.greaterThan(ESIA_OID_BASE);
      expect(await store.esia.oidOf(account.id)).to.equal(oids[0]);
      expect(await store.esia.accountOfOid(oids[1]!)).to.equal('erased-account');
      expect(await store.esia.oidOf('new-account')).to.be.greaterThan(Math.max(...oids));
      expect(await store.esia.useOnce('rp-live|state-1', new Date(Date.now() + 600_000).toISOString())).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it('refuses to import into a store that holds data, unless --force', async () => {
    const refused = await target.run('store', 'import', file);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include(
      'the sqlite store is not empty (1 accounts, 3 audit events, 1 settings, 1 letters, 2 clients, 3 ESIA oids)',
    );
    expect(refused.stderr).to.include('--force');
    const forced = await target.run('store', 'import', file, '--force');
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.stdout).to.include(
      'the store held data before (--force): it now holds 1 accounts, 3 audit events, 1 settings, 1 letters, 2 clients, 3 ESIA oids',
    );
  });

  it('refuses a damaged or cut-short file, and changes nothing', async () => {
    const empty = cliSandbox();
    try {
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      const tampered = lines.map((l) => l.replace('"signin.password"', '"signin.passwordX"'));
      writeFileSync(`${file}.bad`, `${tampered.join('\n')}\n`);
      const bad = await empty.run('store', 'import', `${file}.bad`);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.include('do not match the export');
      writeFileSync(`${file}.cut`, `${lines.slice(0, -1).join('\n')}\n`);
      const cut = await empty.run('store', 'import', `${file}.cut`);
      expect(cut.code).to.equal(1);
      expect(cut.stderr).to.include('cut short');
      writeFileSync(`${file}.other`, '{"hello":1}\n');
      expect((await empty.run('store', 'import', `${file}.other`)).stderr).to.include('not a vkhod store export');
      const store = openSqliteStore({ path: String(empty.env.VKHOD_SQLITE_PATH), sweepIntervalMs: 0 });
      try {
        expect(await store.transfer.counts()).to.deep.equal({
          account: 0,
          audit: 0,
          setting: 0,
          letter: 0,
          client: 0,
          'esia-oid': 0,
          'esia-oid-sequence': 0,
        });
      } finally {
        await store.close();
      }
    } finally {
      empty.close();
    }
  });

  it('`keys rotate` is audited as key.rotated with the kids, by the CLI user', async () => {
    const fresh = cliSandbox();
    try {
      const run = await fresh.run('keys', 'rotate');
      expect(run.code, run.stderr).to.equal(0);
      const listed = await fresh.run('audit', '--type', 'key.*', '--json');
      const [event] = listed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(event).to.include({ type: 'key.rotated', outcome: 'success' });
      expect(event.actor).to.match(/^cli/);
      expect(event.details.pending, 'the kids published by the rotation').to.be.an('array').with.length.greaterThan(0);
      expect(JSON.stringify(event)).not.to.match(/"d":|PRIVATE/);
    } finally {
      fresh.close();
    }
  });

  it('`vkhod audit` lists by account and type, newest first, with a cursor for the next page', async () => {
    const run = await target.run('audit', '--account', account.id, '--limit', '1');
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).to.equal('at\ttype\toutcome\tactor\taccount\tclient\tip\treason\tid');
    expect(lines[1]).to.match(new RegExp(`^2026-01-03T00:00:00.000Z\tconsent\tsuccess\tself\t${account.id}\t`));
    const cursor = /^next: --cursor (\S+)$/.exec(lines[2]!)?.[1];
    expect(cursor, run.stdout).to.be.a('string');
    const next = await target.run('audit', '--account', account.id, '--limit', '1', '--cursor', cursor!, '--json');
    expect(JSON.parse(next.stdout.trim())).to.deep.equal(events[0]);
    const family = await target.run('audit', '--type', 'admin.*', '--since', '2026-01-01', '--json');
    expect(
      family.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).to.deep.equal(['admin.signed_in']);
    const bad = await target.run('audit', '--since', 'yesterday');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('since and until are a date');
  });
});
