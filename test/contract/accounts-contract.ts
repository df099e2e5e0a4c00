/** Contract: `store.accounts` — keys unique across accounts, optimistic concurrency, erase. */
import { expect } from 'chai';
import { DuplicateKeyError, VersionConflictError, type Account, type Store } from '../../src/store.ts';
import { fakeAccount, fakeEvent, keysFor, sortedKeys, uniq } from './fixtures.ts';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  expect.fail('expected the promise to reject');
}

export function accountsContract(getStore: () => Store): void {
  describe('accounts', () => {
    const accounts = () => getStore().accounts;
    const audit = () => getStore().audit;

    async function created(overrides: Partial<Account> = {}): Promise<Account> {
      const account = fakeAccount(overrides);
      await accounts().create(account, keysFor(account));
      return account;
    }

    it('create stores the account, its keys and its events', async () => {
      const account = fakeAccount();
      const keys = [...keysFor(account), { kind: 'fed:https://idp.example.test', value: uniq('sub') }];
      const event = fakeEvent(account.id);
      await accounts().create(account, keys, [event]);

      expect(await accounts().findById(account.id)).to.deep.equal(account);
      for (const key of keys) expect(await accounts().findByKey(key), key.kind).to.deep.equal(account);
      expect(sortedKeys(await accounts().keysOf(account.id))).to.deep.equal(sortedKeys(keys));
      expect(await audit().listForAccount(account.id)).to.deep.equal([event]);
    });

    it('keeps optional fields absent rather than null', async () => {
      const { phone: _p, email: _e, snils: _s, passwordHash: _h, extra: _x, ...rest } = fakeAccount();
      const account: Account = rest;
      await accounts().create(account, [{ kind: 'webauthn', value: uniq('cred') }]);
      expect(await accounts().findById(account.id)).to.deep.equal(account);
    });

    it('unknown ids and keys are not found', async () => {
      expect(await accounts().findById(uniq('acc'))).to.equal(undefined);
      expect(await accounts().findByKey({ kind: 'phone', value: uniq('+7') })).to.equal(undefined);
      expect(await accounts().keysOf(uniq('acc'))).to.deep.equal([]);
      // a key value under another kind is a different key
      const a = await created();
      expect(await accounts().findByKey({ kind: 'email', value: a.phone! })).to.equal(undefined);
    });

    it('a duplicate key rejects with DuplicateKeyError and writes nothing', async () => {
      const first = await created();
      const second = fakeAccount();
      const secondEmail = { kind: 'email', value: second.email! };
      const taken = { kind: 'phone', value: first.phone! };
      const err = await rejection(
        accounts().create(second, [secondEmail, taken], [fakeEvent(second.id), fakeEvent(second.id, { type: 'x' })]),
      );
      expect(err).to.be.instanceOf(DuplicateKeyError);
      expect((err as DuplicateKeyError).key).to.deep.equal(taken);

      expect(await accounts().findById(second.id)).to.equal(undefined);
      expect(await accounts().findByKey(secondEmail)).to.equal(undefined);
      expect(await accounts().keysOf(second.id)).to.deep.equal([]);
      expect(await audit().listForAccount(second.id)).to.deep.equal([]);
      expect(await accounts().findByKey(taken)).to.deep.equal(first);
      // the key the failed create did not get is still free
      await accounts().create(second, [secondEmail]);
      expect(await accounts().findByKey(secondEmail)).to.deep.equal(second);
    });

    it('a duplicate account id rejects with DuplicateKeyError and keeps the original', async () => {
      const first = await created();
      const clash = fakeAccount({ id: first.id, level: 'confirmed' });
      const err = await rejection(accounts().create(clash, [{ kind: 'email', value: uniq('e') }]));
      expect(err).to.be.instanceOf(DuplicateKeyError);
      expect(await accounts().findById(first.id)).to.deep.equal(first);
      expect(sortedKeys(await accounts().keysOf(first.id))).to.deep.equal(sortedKeys(keysFor(first)));
    });

    it('update with the right version stores it, bumps the version, replaces keys, appends events', async () => {
      const account = await created({ version: 4 });
      const oldKeys = keysFor(account);
      const next: Account = { ...account, level: 'confirmed', phone: fakeAccount().phone, updatedAt: new Date().toISOString() };
      const newKeys = [
        { kind: 'phone', value: next.phone! },
        { kind: 'email', value: account.email! },
      ];
      const event = fakeEvent(account.id, { type: 'account.level' });

      const saved = await accounts().update(next, 4, newKeys, [event]);
      expect(saved).to.deep.equal({ ...next, version: 5 });
      expect(await accounts().findById(account.id)).to.deep.equal({ ...next, version: 5 });
      expect(sortedKeys(await accounts().keysOf(account.id))).to.deep.equal(sortedKeys(newKeys));
      expect(await accounts().findByKey(oldKeys[0]!)).to.equal(undefined);
      expect(await accounts().findByKey({ kind: 'snils', value: account.snils! })).to.equal(undefined);
      expect(await accounts().findByKey(newKeys[0]!)).to.deep.equal(saved);
      expect(await audit().listForAccount(account.id)).to.deep.equal([event]);
    });

    it('update without keys leaves the keys alone', async () => {
      const account = await created();
      const saved = await accounts().update({ ...account, emailVerified: true }, account.version);
      expect(saved.version).to.equal(account.version + 1);
      expect(sortedKeys(await accounts().keysOf(account.id))).to.deep.equal(sortedKeys(keysFor(account)));
      expect(await accounts().findByKey({ kind: 'email', value: account.email! })).to.deep.equal(saved);
    });

    it('update with a stale version rejects with VersionConflictError and changes nothing', async () => {
      const account = await created();
      const v2 = await accounts().update({ ...account, level: 'confirmed' }, account.version);
      const err = await rejection(accounts().update({ ...account, level: 'simplified' }, account.version, [], [fakeEvent(account.id)]));
      expect(err).to.be.instanceOf(VersionConflictError);
      expect((err as VersionConflictError).accountId).to.equal(account.id);
      expect(await accounts().findById(account.id)).to.deep.equal(v2);
      expect(sortedKeys(await accounts().keysOf(account.id))).to.deep.equal(sortedKeys(keysFor(account)));
      expect(await audit().listForAccount(account.id)).to.deep.equal([]);
    });

    it('update of an unknown account rejects with VersionConflictError', async () => {
      const err = await rejection(accounts().update(fakeAccount(), 1));
      expect(err).to.be.instanceOf(VersionConflictError);
    });

    it("update taking another account's key rejects with DuplicateKeyError and changes nothing", async () => {
      const owner = await created();
      const account = await created();
      const taken = { kind: 'email', value: owner.email! };
      const err = await rejection(accounts().update({ ...account, email: owner.email }, account.version, [taken], [fakeEvent(account.id)]));
      expect(err).to.be.instanceOf(DuplicateKeyError);
      expect((err as DuplicateKeyError).key).to.deep.equal(taken);
      expect(await accounts().findById(account.id)).to.deep.equal(account);
      expect(sortedKeys(await accounts().keysOf(account.id))).to.deep.equal(sortedKeys(keysFor(account)));
      expect(await accounts().findByKey(taken)).to.deep.equal(owner);
      expect(await audit().listForAccount(account.id)).to.deep.equal([]);
    });

    it('concurrent updates with the same expected version: exactly one wins', async () => {
      const account = await created();
      const attempts = ['simplified', 'standard', 'confirmed', 'standard', 'confirmed'] as const;
      const results = await Promise.allSettled(
        attempts.map((level, i) =>
          accounts().update(
            { ...account, level, updatedAt: `2030-01-01T00:00:0${i}.000Z` },
            account.version,
            [{ kind: 'email', value: `${i}-${account.email}` }],
            [fakeEvent(account.id, { type: `try.${i}` })],
          ),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).to.have.length(1);
      for (const r of lost) expect(r.reason).to.be.instanceOf(VersionConflictError);
      const winner = won[0]!.value;
      const i = results.indexOf(won[0]!);
      expect(winner.version).to.equal(account.version + 1);
      expect(await accounts().findById(account.id)).to.deep.equal(winner);
      expect(await accounts().keysOf(account.id)).to.deep.equal([{ kind: 'email', value: `${i}-${account.email}` }]);
      expect((await audit().listForAccount(account.id)).map((e) => e.type)).to.deep.equal([`try.${i}`]);
    });

    it('softDelete marks the account deleted and frees its keys', async () => {
      const account = await created();
      const at = new Date().toISOString();
      await accounts().softDelete(account.id, at);
      const stored = await accounts().findById(account.id);
      expect(stored).to.include({ id: account.id, status: 'deleted', deletedAt: at, version: account.version + 1 });
      expect(await accounts().keysOf(account.id)).to.deep.equal([]);
      for (const key of keysFor(account)) expect(await accounts().findByKey(key)).to.equal(undefined);
      // the freed keys can be taken by a new account
      const successor = fakeAccount({ phone: account.phone, email: account.email, snils: account.snils });
      await accounts().create(successor, keysFor(successor));
      expect(await accounts().findByKey({ kind: 'phone', value: account.phone! })).to.deep.equal(successor);
      await accounts().softDelete(uniq('acc'), at); // unknown id: no error
    });

    describe('identity numbers typed in but not verified (shared keys): squatting blocks nobody', () => {
      const snils = () => ({ kind: 'snils', value: uniq('snils') });

      it('several accounts hold the same shared key; findByKey does not find it, holdersOf finds them all', async () => {
        const number = snils();
        const squatter = fakeAccount();
        const owner = fakeAccount();
        await accounts().create(squatter, [...keysFor(squatter), { ...number, shared: true }]);
        await accounts().create(owner, [...keysFor(owner), { ...number, shared: true }]);
        expect(await accounts().findByKey(number)).to.equal(undefined);
        expect((await accounts().holdersOf(number)).map((a) => a.id)).to.have.members([squatter.id, owner.id]);
        expect(await accounts().keysOf(squatter.id)).to.deep.include({ ...number, shared: true });
      });

      it('the real owner makes it unique (verified) while the squatter still holds it shared; a second unique holder is refused', async () => {
        const number = snils();
        const squatter = fakeAccount();
        const owner = fakeAccount();
        const third = fakeAccount();
        await accounts().create(squatter, [...keysFor(squatter), { ...number, shared: true }]);
        await accounts().create(owner, keysFor(owner));
        await accounts().create(third, keysFor(third));
        const verified = await accounts().update(owner, owner.version, [...keysFor(owner), number]);
        expect(await accounts().findByKey(number)).to.deep.equal(verified);
        expect((await accounts().holdersOf(number)).map((a) => a.id)).to.have.members([squatter.id, owner.id]);
        const err = await rejection(accounts().update(third, third.version, [...keysFor(third), number]));
        expect(err).to.be.instanceOf(DuplicateKeyError);
        expect((err as DuplicateKeyError).key).to.deep.include(number);
      });

      it('replacing the keys drops the shared ones too; erase drops them', async () => {
        const number = snils();
        const account = fakeAccount();
        await accounts().create(account, [...keysFor(account), { ...number, shared: true }]);
        await accounts().update(account, account.version, keysFor(account));
        expect(await accounts().holdersOf(number)).to.deep.equal([]);
        const again = (await accounts().findById(account.id))!;
        await accounts().update(again, again.version, [...keysFor(again), { ...number, shared: true }]);
        await accounts().erase(account.id);
        expect(await accounts().holdersOf(number)).to.deep.equal([]);
        expect(await accounts().keysOf(account.id)).to.deep.equal([]);
      });
    });

    it('dueForErasure lists deactivated accounts whose grace ended; softDelete then erase removes them and frees their keys', async () => {
      const due = await created({
        status: 'deactivated',
        deletion: { requestedAt: '2030-01-01T00:00:00.000Z', eraseAfter: '2030-01-31T00:00:00.000Z', actor: 'self' },
      });
      const later = await created({
        status: 'deactivated',
        deletion: { requestedAt: '2030-01-20T00:00:00.000Z', eraseAfter: '2030-02-19T00:00:00.000Z', actor: 'self' },
      });
      const active = await created({
        deletion: { requestedAt: '2030-01-01T00:00:00.000Z', eraseAfter: '2030-01-31T00:00:00.000Z', actor: 'self' },
      });
      const listed = await accounts().dueForErasure('2030-02-01T00:00:00.000Z', 1000);
      expect(listed).to.include(due.id);
      expect(listed).to.not.include(later.id);
      expect(listed).to.not.include(active.id);
      expect(await accounts().dueForErasure('2030-02-01T00:00:00.000Z', 0)).to.deep.equal([]);
      // a deactivated account keeps its keys (it may be restored) until it is erased
      expect(await accounts().findByKey({ kind: 'phone', value: due.phone! })).to.deep.include({ id: due.id, status: 'deactivated' });
      await accounts().softDelete(due.id, '2030-02-01T00:00:00.000Z');
      await accounts().erase(due.id);
      expect(await accounts().findById(due.id)).to.equal(undefined);
      for (const key of keysFor(due)) expect(await accounts().findByKey(key)).to.equal(undefined);
      expect(await accounts().dueForErasure('2030-02-01T00:00:00.000Z', 1000)).to.not.include(due.id);
      expect(await accounts().dueForErasure('2030-03-01T00:00:00.000Z', 1000)).to.include(later.id);
    });

    it('erase removes the account and its keys but keeps its audit events', async () => {
      const account = fakeAccount();
      const events = [fakeEvent(account.id, { at: '2030-01-01T00:00:00.000Z' })];
      await accounts().create(account, keysFor(account), events);
      const later = fakeEvent(account.id, { type: 'account.erased', at: '2030-01-01T00:00:01.000Z' });
      await audit().append(later);
      await accounts().erase(account.id);
      expect(await accounts().findById(account.id)).to.equal(undefined);
      expect(await accounts().keysOf(account.id)).to.deep.equal([]);
      for (const key of keysFor(account)) expect(await accounts().findByKey(key)).to.equal(undefined);
      expect(await audit().listForAccount(account.id)).to.deep.equal([later, ...events]);
    });
  });
}
