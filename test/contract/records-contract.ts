/** Contract: `store.challenges`, `store.audit` and `store.settings`. */
import { expect } from 'chai';
import type { Store } from '../../src/store.ts';
import { fakeChallenge, fakeEvent, isoIn, uniq } from './fixtures.ts';

export function challengesContract(getStore: () => Store): void {
  describe('challenges', () => {
    const challenges = () => getStore().challenges;
    const now = () => new Date().toISOString();

    it('create then find returns the challenge as stored', async () => {
      const c = fakeChallenge({ accountId: uniq('acc') });
      await challenges().create(c);
      expect(await challenges().find(c.id)).to.deep.equal(c);
      expect(await challenges().find(uniq('chl'))).to.equal(undefined);
    });

    it('takeAttempt increments attempts and returns the challenge after the increment, while attempts are left', async () => {
      const c = fakeChallenge({ maxAttempts: 2 });
      await challenges().create(c);
      expect(await challenges().takeAttempt(c.id, now())).to.deep.equal({ ...c, attempts: 1 });
      expect(await challenges().takeAttempt(c.id, now())).to.deep.equal({ ...c, attempts: 2 });
      expect(await challenges().takeAttempt(c.id, now()), 'none left').to.equal(undefined);
      expect(await challenges().find(c.id)).to.deep.equal({ ...c, attempts: 2 });
      expect(await challenges().takeAttempt(uniq('chl'), now())).to.equal(undefined);
    });

    it('takeAttempt takes nothing from a consumed or expired challenge', async () => {
      const used = fakeChallenge();
      const old = fakeChallenge({ expiresAt: isoIn(5 * 60_000) });
      await challenges().create(used);
      await challenges().create(old);
      expect(await challenges().consume(used.id, now())).to.equal(true);
      expect(await challenges().takeAttempt(used.id, now())).to.equal(undefined);
      expect(await challenges().takeAttempt(old.id, old.expiresAt)).to.equal(undefined);
      expect((await challenges().find(old.id))?.attempts).to.equal(0);
    });

    it('concurrent takeAttempt: exactly the attempts left are taken', async () => {
      const c = fakeChallenge({ maxAttempts: 3 });
      await challenges().create(c);
      const taken = await Promise.all(Array.from({ length: 10 }, () => challenges().takeAttempt(c.id, now())));
      expect(
        taken
          .filter(Boolean)
          .map((t) => t!.attempts)
          .sort(),
      ).to.deep.equal([1, 2, 3]);
      expect((await challenges().find(c.id))?.attempts).to.equal(3);
    });

    it('consume succeeds once, then fails, and records consumedAt', async () => {
      const c = fakeChallenge();
      await challenges().create(c);
      const at = now();
      expect(await challenges().consume(c.id, at)).to.equal(true);
      expect(await challenges().consume(c.id, now())).to.equal(false);
      expect(await challenges().find(c.id)).to.deep.equal({ ...c, consumedAt: at });
      expect(await challenges().consume(uniq('chl'), now())).to.equal(false);
    });

    it('consume fails at and after expiry', async () => {
      const c = fakeChallenge({ expiresAt: isoIn(5 * 60_000) });
      await challenges().create(c);
      expect(await challenges().consume(c.id, c.expiresAt)).to.equal(false);
      expect(await challenges().consume(c.id, isoIn(10 * 60_000))).to.equal(false);
      expect(await challenges().find(c.id)).not.to.have.property('consumedAt');
      expect(await challenges().consume(c.id, now()), 'still valid before expiry').to.equal(true);
    });

    it('consume counts the attempt taken for its own check: it succeeds on the last one, not beyond', async () => {
      const last = fakeChallenge({ maxAttempts: 2 });
      const beyond = fakeChallenge({ maxAttempts: 2, attempts: 3 });
      await challenges().create(last);
      await challenges().create(beyond);
      await challenges().takeAttempt(last.id, now());
      await challenges().takeAttempt(last.id, now());
      expect(await challenges().consume(beyond.id, now())).to.equal(false);
      expect(await challenges().consume(last.id, now())).to.equal(true);
    });

    it('concurrent consume: exactly one caller wins', async () => {
      const c = fakeChallenge();
      await challenges().create(c);
      const results = await Promise.all(Array.from({ length: 10 }, () => challenges().consume(c.id, now())));
      expect(results.filter(Boolean)).to.have.length(1);
    });

    it('sweep removes expired challenges only and returns how many', async () => {
      const at = isoIn(20 * 60_000);
      await challenges().sweep(at); // clear what earlier tests left behind
      const expired = fakeChallenge({ expiresAt: isoIn(10 * 60_000) });
      const boundary = fakeChallenge({ expiresAt: at });
      const live = fakeChallenge({ expiresAt: isoIn(30 * 60_000) });
      for (const c of [expired, boundary, live]) await challenges().create(c);
      expect(await challenges().sweep(at)).to.equal(2);
      expect(await challenges().find(expired.id)).to.equal(undefined);
      expect(await challenges().find(boundary.id)).to.equal(undefined);
      expect(await challenges().find(live.id)).to.deep.equal(live);
      expect(await challenges().sweep(at)).to.equal(0);
    });
  });
}

export function auditContract(getStore: () => Store): void {
  describe('audit', () => {
    const audit = () => getStore().audit;

    it("lists an account's events newest first, honours limit, excludes other accounts", async () => {
      const [me, other] = [uniq('acc'), uniq('acc')];
      const mine = [0, 1, 2, 3].map((i) => fakeEvent(me, { type: `e${i}`, at: `2031-02-03T04:05:0${i}.000Z` }));
      // appended out of order: ordering is by `at`, not by insertion
      for (const e of [mine[2]!, mine[0]!, mine[3]!, mine[1]!]) await audit().append(e);
      await audit().append(fakeEvent(other, { at: '2031-02-03T04:05:09.000Z' }));
      await audit().append(fakeEvent(undefined, { type: 'system.boot', at: '2031-02-03T04:05:08.000Z' }));

      expect(await audit().listForAccount(me)).to.deep.equal([...mine].reverse());
      expect(await audit().listForAccount(me, 2)).to.deep.equal([mine[3], mine[2]]);
      expect(await audit().listForAccount(other)).to.have.length(1);
      expect(await audit().listForAccount(uniq('acc'))).to.deep.equal([]);
    });

    it('stores events as given (minimal events too)', async () => {
      const accountId = uniq('acc');
      const minimal = { id: uniq('evt'), at: new Date().toISOString(), type: 'login.failed', accountId };
      await audit().append(minimal);
      expect(await audit().listForAccount(accountId)).to.deep.equal([minimal]);
    });
  });
}

export function settingsContract(getStore: () => Store): void {
  describe('settings', () => {
    const settings = () => getStore().settings;

    it('put with version 0 inserts only when absent', async () => {
      const name = uniq('setting');
      expect(await settings().get(name)).to.equal(undefined);
      expect(await settings().put(name, 'first', 0)).to.equal(true);
      expect(await settings().get(name)).to.deep.equal({ value: 'first', version: 1 });
      expect(await settings().put(name, 'second', 0)).to.equal(false);
      expect(await settings().get(name)).to.deep.equal({ value: 'first', version: 1 });
    });

    it('put compares and sets by version', async () => {
      const name = uniq('setting');
      await settings().put(name, 'v1', 0);
      expect(await settings().put(name, 'v2', 1)).to.equal(true);
      expect(await settings().get(name)).to.deep.equal({ value: 'v2', version: 2 });
      expect(await settings().put(name, 'stale', 1)).to.equal(false);
      expect(await settings().put(name, 'future', 7)).to.equal(false);
      expect(await settings().get(name)).to.deep.equal({ value: 'v2', version: 2 });
      expect(await settings().put(uniq('setting'), 'absent', 1), 'no such setting').to.equal(false);
    });

    it('concurrent puts with the same version: exactly one succeeds', async () => {
      const name = uniq('setting');
      const inserts = await Promise.all([0, 1, 2, 3].map((i) => settings().put(name, `insert-${i}`, 0)));
      expect(inserts.filter(Boolean)).to.have.length(1);
      const updates = await Promise.all([0, 1, 2, 3].map((i) => settings().put(name, `update-${i}`, 1)));
      expect(updates.filter(Boolean)).to.have.length(1);
      const stored = await settings().get(name);
      expect(stored).to.deep.equal({ value: `update-${updates.indexOf(true)}`, version: 2 });
    });
  });
}

export function lettersContract(getStore: () => Store): void {
  describe('letters', () => {
    const letter = (id: string, createdAt: string) => ({
      id,
      accountId: `acc-${id}`,
      status: 'queued' as const,
      createdAt,
      recipient: { name: 'Иванова Мария', address: { formatted: 'г. Москва, ул. Тверская, д. 1', postalCode: '125009' } },
      sealedCode: `sealed-${id}`,
    });

    it('queues letters oldest first and finds them by id', async () => {
      const store = getStore();
      const [a, b] = [uniq('letter'), uniq('letter')];
      await store.letters.create(letter(b, '2026-01-02T00:00:00.000Z'));
      await store.letters.create(letter(a, '2026-01-01T00:00:00.000Z'));
      const queued = (await store.letters.list('queued', 1000)).map((l) => l.id).filter((id) => id === a || id === b);
      expect(queued).to.deep.equal([a, b]);
      expect(await store.letters.find(a)).to.deep.equal(letter(a, '2026-01-01T00:00:00.000Z'));
      expect(await store.letters.find('nope')).to.equal(undefined);
      expect(await store.letters.list('queued', 1)).to.have.length(1);
    });

    it('marks a letter sent once, dropping its code', async () => {
      const store = getStore();
      const id = uniq('letter');
      await store.letters.create(letter(id, '2026-01-03T00:00:00.000Z'));
      const results = await Promise.all([
        store.letters.markSent(id, '2026-01-04T00:00:00.000Z', 'op-1'),
        store.letters.markSent(id, '2026-01-04T00:00:01.000Z', 'op-2'),
      ]);
      expect(results.filter(Boolean)).to.have.length(1);
      const sent = await store.letters.find(id);
      expect(sent).to.include({ status: 'sent' });
      expect(sent).to.not.have.property('sealedCode');
      expect(sent!.sentBy).to.match(/^op-[12]$/);
      expect((await store.letters.list('queued', 1000)).map((l) => l.id)).to.not.include(id);
      expect((await store.letters.list('sent', 1000)).map((l) => l.id)).to.include(id);
      expect(await store.letters.markSent('missing', '2026-01-04T00:00:00.000Z', 'op')).to.equal(false);
    });

    it('cancels a queued letter once, dropping its code; it is no longer queued', async () => {
      const store = getStore();
      const id = uniq('letter');
      const created = letter(id, '2026-01-05T00:00:00.000Z');
      await store.letters.create(created);
      expect(await store.letters.cancel(id, '2026-01-06T00:00:00.000Z', 'exhausted')).to.equal(true);
      expect(await store.letters.cancel(id, '2026-01-06T00:00:01.000Z', 'replaced'), 'a second cancel').to.equal(false);
      const { sealedCode: _dropped, ...rest } = created;
      expect(await store.letters.find(id)).to.deep.equal({
        ...rest,
        status: 'cancelled',
        cancelledAt: '2026-01-06T00:00:00.000Z',
        cancelReason: 'exhausted',
      });
      expect((await store.letters.list('queued', 1000)).map((l) => l.id)).to.not.include(id);
      expect((await store.letters.list('sent', 1000)).map((l) => l.id)).to.not.include(id);
      expect((await store.letters.list('cancelled', 1000)).map((l) => l.id)).to.include(id);
      expect(await store.letters.cancel('missing', '2026-01-06T00:00:00.000Z', 'exhausted')).to.equal(false);
    });

    it('concurrent cancel: exactly one caller wins', async () => {
      const store = getStore();
      const id = uniq('letter');
      await store.letters.create(letter(id, '2026-01-07T00:00:00.000Z'));
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.letters.cancel(id, `2026-01-08T00:00:0${i}.000Z`, `reason-${i}`)),
      );
      expect(results.filter(Boolean)).to.have.length(1);
      expect(await store.letters.find(id)).to.include({ status: 'cancelled', cancelReason: `reason-${results.indexOf(true)}` });
    });

    it('a cancelled letter cannot be marked sent, and a sent one cannot be cancelled', async () => {
      const store = getStore();
      const [cancelled, sent] = [uniq('letter'), uniq('letter')];
      await store.letters.create(letter(cancelled, '2026-01-09T00:00:00.000Z'));
      await store.letters.create(letter(sent, '2026-01-09T00:00:01.000Z'));
      expect(await store.letters.cancel(cancelled, '2026-01-10T00:00:00.000Z', 'data_changed')).to.equal(true);
      expect(await store.letters.markSent(cancelled, '2026-01-10T00:00:01.000Z', 'op')).to.equal(false);
      expect(await store.letters.find(cancelled))
        .to.include({ status: 'cancelled' })
        .and.not.have.property('sentBy');

      expect(await store.letters.markSent(sent, '2026-01-10T00:00:00.000Z', 'op')).to.equal(true);
      expect(await store.letters.cancel(sent, '2026-01-10T00:00:01.000Z', 'data_changed')).to.equal(false);
      expect(await store.letters.find(sent))
        .to.include({ status: 'sent', sentBy: 'op' })
        .and.not.have.property('cancelReason');
    });

    it("erasing an account removes its letters' recipient and code: a queued one is cancelled, a sent one stays sent; other accounts' letters are untouched", async () => {
      const store = getStore();
      const [queued, sent, other] = [uniq('letter'), uniq('letter'), uniq('letter')];
      const owner = `acc-${queued}`;
      await store.letters.create(letter(queued, '2026-02-01T00:00:00.000Z'));
      await store.letters.create({ ...letter(sent, '2026-02-01T00:00:01.000Z'), accountId: owner });
      await store.letters.create(letter(other, '2026-02-01T00:00:02.000Z'));
      expect(await store.letters.markSent(sent, '2026-02-02T00:00:00.000Z', 'op')).to.equal(true);

      expect(await store.letters.eraseForAccount(owner, '2026-03-01T00:00:00.000Z')).to.equal(2);
      const erasedQueued = await store.letters.find(queued);
      expect(erasedQueued).to.deep.equal({
        id: queued,
        accountId: owner,
        createdAt: '2026-02-01T00:00:00.000Z',
        status: 'cancelled',
        cancelledAt: '2026-03-01T00:00:00.000Z',
        cancelReason: 'erased',
        erasedAt: '2026-03-01T00:00:00.000Z',
      });
      const erasedSent = await store.letters.find(sent);
      expect(erasedSent).to.include({
        status: 'sent',
        sentBy: 'op',
        sentAt: '2026-02-02T00:00:00.000Z',
        erasedAt: '2026-03-01T00:00:00.000Z',
      });
      expect(erasedSent).to.not.have.property('recipient');
      expect(JSON.stringify([erasedQueued, erasedSent]))
        .to.not.include('Иванова')
        .and.not.include('Тверская')
        .and.not.include('sealed-');
      expect((await store.letters.list('queued', 1000)).map((l) => l.id)).to.not.include(queued);
      // idempotent; an account without letters, or an id that is no key, changes nothing
      expect(await store.letters.eraseForAccount(owner, '2026-03-02T00:00:00.000Z')).to.equal(0);
      expect((await store.letters.find(queued))!.erasedAt).to.equal('2026-03-01T00:00:00.000Z');
      expect(await store.letters.eraseForAccount('acc-none', '2026-03-01T00:00:00.000Z')).to.equal(0);
      expect(await store.letters.find(other)).to.deep.equal(letter(other, '2026-02-01T00:00:02.000Z'));
    });

    it('concurrent markSent and cancel: exactly one wins', async () => {
      const store = getStore();
      const id = uniq('letter');
      await store.letters.create(letter(id, '2026-01-11T00:00:00.000Z'));
      const [sent, cancelled] = await Promise.all([
        store.letters.markSent(id, '2026-01-12T00:00:00.000Z', 'op'),
        store.letters.cancel(id, '2026-01-12T00:00:00.000Z', 'expired'),
      ]);
      expect([sent, cancelled].filter(Boolean)).to.have.length(1);
      const stored = await store.letters.find(id);
      expect(stored)
        .to.include({ status: sent ? 'sent' : 'cancelled' })
        .and.not.have.property('sealedCode');
    });
  });
}
