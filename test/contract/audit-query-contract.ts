/**
 * Contract (issue 14): reading the audit trail (by account, type, time; newest first; paged),
 * its retention, the schema version and the records `store export` / `store import` move.
 * The store is shared with the other contract tests: every test uses its own ids and types.
 */
import { expect } from 'chai';
import { AUDIT_PAGE_MAX, type AuditEvent, type AuditQuery, type Store, type StoredClient, type TransferRecord } from '../../src/store.ts';
import { fakeAccount, fakeEvent, keysFor, sortedKeys, uniq } from './fixtures.ts';

export function auditQueryContract(getStore: () => Store): void {
  describe('audit queries (issue 14)', () => {
    const audit = () => getStore().audit;

    /** Every page of a query, followed through its cursors. */
    async function allPages(query: AuditQuery): Promise<AuditEvent[][]> {
      const pages: AuditEvent[][] = [];
      let cursor: string | undefined;
      do {
        const page = await audit().query({ ...query, cursor });
        pages.push(page.events);
        cursor = page.next;
      } while (cursor && pages.length < 50);
      return pages;
    }

    it('filters by account, newest first; ties on `at` are broken by id', async () => {
      const [me, other] = [uniq('acc'), uniq('acc')];
      const at = '2032-01-01T00:00:00.000Z';
      const events = [
        fakeEvent(me, { id: `${uniq('e')}-a`, at: '2032-01-01T00:00:01.000Z' }),
        fakeEvent(me, { id: 'zz-same-time', at }),
        fakeEvent(me, { id: 'aa-same-time', at }),
      ];
      for (const e of events) await audit().append(e);
      await audit().append(fakeEvent(other));
      const page = await audit().query({ accountId: me, limit: 10 });
      expect(page.events.map((e) => e.id)).to.deep.equal([events[0]!.id, 'zz-same-time', 'aa-same-time']);
      expect(page.next).to.equal(undefined);
    });

    it('filters by exact type and by a type family (`x.*`)', async () => {
      const family = uniq('fam').replace(/-/g, '_');
      const accountId = uniq('acc');
      const a = fakeEvent(accountId, { type: `${family}.started`, at: '2032-02-01T00:00:01.000Z' });
      const b = fakeEvent(accountId, { type: `${family}.ended`, at: '2032-02-01T00:00:02.000Z' });
      const near = fakeEvent(accountId, { type: `${family}x.ended`, at: '2032-02-01T00:00:03.000Z' });
      for (const e of [a, b, near]) await audit().append(e);
      expect((await audit().query({ type: `${family}.started`, limit: 10 })).events).to.deep.equal([a]);
      expect((await audit().query({ type: `${family}.*`, limit: 10 })).events).to.deep.equal([b, a]);
      expect((await audit().query({ type: `${family}.nothing`, limit: 10 })).events).to.deep.equal([]);
    });

    it('filters by time: since inclusive, until exclusive', async () => {
      const accountId = uniq('acc');
      const events = [1, 2, 3, 4].map((s) => fakeEvent(accountId, { at: `2032-03-01T00:00:0${s}.000Z` }));
      for (const e of events) await audit().append(e);
      const page = await audit().query({ accountId, since: '2032-03-01T00:00:02.000Z', until: '2032-03-01T00:00:04.000Z', limit: 10 });
      expect(page.events.map((e) => e.at)).to.deep.equal(['2032-03-01T00:00:03.000Z', '2032-03-01T00:00:02.000Z']);
    });

    it('pages through a long result with the cursor: every event once, in order', async () => {
      const accountId = uniq('acc');
      const events = Array.from({ length: 7 }, (_, i) => fakeEvent(accountId, { at: `2032-04-01T00:00:0${i}.000Z` }));
      // two at the same instant across a page boundary
      events.push(fakeEvent(accountId, { id: `${uniq('e')}`, at: '2032-04-01T00:00:04.000Z' }));
      for (const e of events) await audit().append(e);
      const pages = await allPages({ accountId, limit: 3 });
      expect(pages.map((p) => p.length)).to.deep.equal([3, 3, 2]);
      const expected = [...events].sort((x, y) => (x.at === y.at ? (x.id < y.id ? 1 : -1) : x.at < y.at ? 1 : -1));
      expect(pages.flat()).to.deep.equal(expected);
    });

    it('combines filters, and an exactly full last page has no next', async () => {
      const accountId = uniq('acc');
      const type = `${uniq('t')}.x`;
      const events = [1, 2].map((s) => fakeEvent(accountId, { type, at: `2032-05-01T00:00:0${s}.000Z` }));
      for (const e of [...events, fakeEvent(accountId, { at: '2032-05-01T00:00:03.000Z' })]) await audit().append(e);
      const page = await audit().query({ accountId, type, since: '2032-05-01T00:00:00.000Z', limit: 2 });
      expect(page.events).to.deep.equal([events[1], events[0]]);
      const next = page.next ? await audit().query({ accountId, type, limit: 2, cursor: page.next }) : { events: [] };
      expect(next.events).to.deep.equal([]);
    });

    it('bounds the page size whatever is asked', async () => {
      const page = await audit().query({ limit: 100_000 });
      expect(page.events.length).to.be.at.most(AUDIT_PAGE_MAX);
    });

    it('refuses a cursor it did not make', async () => {
      let error: unknown;
      try {
        await audit().query({ limit: 5, cursor: 'bm90IG91cnM' });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(RangeError);
    });

    it('deleteBefore removes the oldest events, at most `limit` per call, and keeps younger ones', async () => {
      const accountId = uniq('acc');
      // older than anything else in the shared store
      const old = [1, 2, 3].map((s) => fakeEvent(accountId, { at: `1990-01-01T00:00:0${s}.000Z` }));
      const young = fakeEvent(accountId, { at: '1990-06-01T00:00:00.000Z' });
      for (const e of [...old, young]) await audit().append(e);
      expect(await audit().deleteBefore('1990-02-01T00:00:00.000Z', 2)).to.equal(2);
      expect((await audit().query({ accountId, limit: 10 })).events).to.deep.equal([young, old[2]]);
      expect(await audit().deleteBefore('1990-02-01T00:00:00.000Z', 2)).to.equal(1);
      expect(await audit().deleteBefore('1990-02-01T00:00:00.000Z', 2)).to.equal(0);
      expect((await audit().query({ accountId, limit: 10 })).events).to.deep.equal([young]);
    });
  });

  describe('schema version and transfer (issue 14)', () => {
    it('reports the schema version it is at', () => {
      expect(getStore().schemaVersion).to.be.a('number').and.to.be.at.least(2);
    });

    it('imports records as they are and exports them again, by kind then id', async () => {
      const store = getStore();
      const account = fakeAccount();
      const keys = [...keysFor(account), { kind: 'passport', value: uniq('p'), shared: true }];
      const event = fakeEvent(account.id, { reason: 'wrong_password' });
      const setting = uniq('setting');
      const letter = {
        id: uniq('letter'),
        accountId: account.id,
        status: 'queued' as const,
        createdAt: new Date().toISOString(),
        recipient: { name: 'И. И. Иванов', address: { formatted: 'Москва' } },
        sealedCode: 'sealed',
      };
      const client: StoredClient = {
        clientId: uniq('rp'),
        status: 'deleted',
        metadata: { client_name: 'Удалённый', redirect_uris: ['https://rp.example.test/cb'] },
        secrets: [{ hash: 'h1', createdAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-02-01T00:00:00.000Z' }],
        source: 'store',
        version: 4,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-02T00:00:00.000Z',
      };
      const oid = (await store.esia.oidOf(uniq('acc'))) + 100;
      const before = await store.transfer.counts();
      const records: TransferRecord[] = [
        { kind: 'account', account, keys },
        { kind: 'audit', event },
        { kind: 'setting', name: setting, value: '{"a":1}', version: 7 },
        { kind: 'letter', letter },
        { kind: 'client', client },
        { kind: 'esia-oid', accountId: account.id, oid },
      ];
      await store.transfer.importRecords(records);
      const after = await store.transfer.counts();
      expect(after).to.deep.equal({
        account: before.account + 1,
        audit: before.audit + 1,
        setting: before.setting + 1,
        letter: before.letter + 1,
        client: before.client + 1,
        'esia-oid': before['esia-oid'] + 1,
        'esia-oid-sequence': 1,
      });
      expect(await store.accounts.findById(account.id)).to.deep.equal(account);
      expect(sortedKeys(await store.accounts.keysOf(account.id))).to.deep.equal(sortedKeys(keys));
      expect(await store.settings.get(setting)).to.deep.equal({ value: '{"a":1}', version: 7 });
      expect(await store.letters.find(letter.id)).to.deep.equal(letter);
      expect(await store.clients.find(client.clientId)).to.deep.equal(client);
      expect(await store.esia.oidOf(account.id)).to.equal(oid);
      expect(await store.esia.accountOfOid(oid)).to.equal(account.id);

      const kinds: string[] = [];
      const ids = new Map<string, string[]>();
      let mine: TransferRecord[] = [];
      for await (const r of store.transfer.exportRecords()) {
        if (kinds[kinds.length - 1] !== r.kind) kinds.push(r.kind);
        const id =
          r.kind === 'account'
            ? r.account.id
            : r.kind === 'audit'
              ? r.event.id
              : r.kind === 'setting'
                ? r.name
                : r.kind === 'letter'
                  ? r.letter.id
                  : r.kind === 'client'
                    ? r.client.clientId
                    : r.kind === 'esia-oid'
                      ? r.accountId
                      : 'sequence';
        ids.set(r.kind, [...(ids.get(r.kind) ?? []), id]);
        if ([account.id, event.id, setting, letter.id, client.clientId].includes(id)) mine.push(r);
      }
      expect(kinds).to.deep.equal(['account', 'audit', 'setting', 'letter', 'client', 'esia-oid', 'esia-oid-sequence']);
      for (const list of ids.values()) expect(list).to.deep.equal([...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      mine = mine.map((r) => (r.kind === 'account' ? { ...r, keys: sortedKeys(r.keys) } : r));
      expect(mine).to.deep.equal([{ kind: 'account', account, keys: sortedKeys(keys) }, ...records.slice(1)]);
    });

    it('after an import of the oid sequence (or an oid above it), no oid at or below it is handed out again', async () => {
      const store = getStore();
      const last = (await store.esia.oidOf(uniq('acc'))) + 1000;
      await store.transfer.importRecords([{ kind: 'esia-oid-sequence', last }]);
      expect(await store.esia.oidOf(uniq('acc'))).to.be.greaterThan(last);
      const moved = uniq('acc');
      await store.transfer.importRecords([{ kind: 'esia-oid', accountId: moved, oid: last + 500 }]);
      expect(await store.esia.oidOf(moved)).to.equal(last + 500);
      expect(await store.esia.oidOf(uniq('acc'))).to.be.greaterThan(last + 500);
      // an oid already held by another account is never moved to the imported one: the import fails, all or none
      const other = uniq('acc');
      let failed = false;
      await store.transfer.importRecords([{ kind: 'esia-oid', accountId: other, oid: last + 500 }]).catch(() => (failed = true));
      expect(failed).to.equal(true);
      expect(await store.esia.accountOfOid(last + 500)).to.equal(moved);
    });

    it('an import replaces a record with the same id (and the account keys with it)', async () => {
      const store = getStore();
      const account = fakeAccount();
      await store.accounts.create(account, keysFor(account));
      const changed = { ...account, version: 5, email: `${uniq('new')}@example.test` };
      await store.transfer.importRecords([{ kind: 'account', account: changed, keys: keysFor(changed) }]);
      expect(await store.accounts.findById(account.id)).to.deep.equal(changed);
      expect(await store.accounts.findByKey({ kind: 'email', value: account.email! })).to.equal(undefined);
      expect((await store.accounts.findByKey({ kind: 'email', value: changed.email }))?.id).to.equal(account.id);
    });
  });
}
