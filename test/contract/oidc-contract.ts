/** Contract: `store.oidcAdapter(model)` — node-oidc-provider's Adapter. */
import { expect } from 'chai';
import type { OidcPayload, Store } from '../../src/store.ts';
import { sleep, uniq } from './fixtures.ts';

export function oidcContract(getStore: () => Store): void {
  describe('oidcAdapter', () => {
    const model = (name: string) => getStore().oidcAdapter(name);

    it('upsert then find returns the payload as stored', async () => {
      const sessions = model('Session');
      const id = uniq('sess');
      const payload: OidcPayload = {
        jti: id,
        kind: 'Session',
        uid: uniq('uid'),
        accountId: uniq('acc'),
        exp: Math.floor(Date.now() / 1000) + 600,
        authorizations: { client1: { sid: 'abc', grantId: 'g1', persistsLogout: true } },
        amr: ['pwd', 'otp'],
        loginTs: 1_700_000_000,
        claims: { 'https://example.test/claim': { essential: true } },
      };
      await sessions.upsert(id, payload, 600);
      const found = await sessions.find(id);
      expect(found).to.deep.equal(payload);
      expect(found).not.to.have.property('consumed');
    });

    it('find, findByUid and findByUserCode return undefined for unknown ids', async () => {
      const a = model('AccessToken');
      expect(await a.find(uniq('missing'))).to.equal(undefined);
      expect(await a.findByUid(uniq('missing'))).to.equal(undefined);
      expect(await a.findByUserCode(uniq('missing'))).to.equal(undefined);
    });

    it('findByUid finds an Interaction/Session by its uid', async () => {
      const a = model('Session');
      const id = uniq('sess');
      const uid = uniq('uid');
      await a.upsert(id, { jti: id, uid }, 600);
      expect(await a.findByUid(uid)).to.deep.equal({ jti: id, uid });
      expect(await a.findByUid(uniq('uid'))).to.equal(undefined);
    });

    it('findByUserCode finds a DeviceCode by its user code', async () => {
      const a = model('DeviceCode');
      const id = uniq('dc');
      const userCode = `UC-${uniq('code')}`;
      await a.upsert(id, { jti: id, userCode, grantId: uniq('grant') }, 600);
      const found = await a.findByUserCode(userCode);
      expect(found).to.include({ jti: id, userCode });
      expect(await a.findByUserCode(`${userCode}x`)).to.equal(undefined);
    });

    it('consume marks the entry consumed with a timestamp in seconds', async () => {
      const a = model('AuthorizationCode');
      const id = uniq('code');
      const payload = { jti: id, grantId: uniq('grant'), scope: 'openid' };
      await a.upsert(id, payload, 600);
      const before = Math.floor(Date.now() / 1000);
      expect(await a.consume(id)).to.equal(true);
      const after = Math.ceil(Date.now() / 1000);
      const found = await a.find(id);
      expect(found).to.include(payload);
      expect(found?.consumed).to.be.a('number');
      expect(Number.isInteger(found?.consumed)).to.equal(true);
      expect(found?.consumed).to.be.within(before, after);
    });

    it('destroy removes only that entry', async () => {
      const a = model('AccessToken');
      const [id1, id2] = [uniq('at'), uniq('at')];
      await a.upsert(id1, { jti: id1 }, 600);
      await a.upsert(id2, { jti: id2 }, 600);
      await a.destroy(id1);
      expect(await a.find(id1)).to.equal(undefined);
      expect(await a.find(id2)).to.deep.equal({ jti: id2 });
      await a.destroy(uniq('missing')); // destroying an unknown id is not an error
    });

    for (const name of ['Session', 'Grant']) {
      it(`${name}: destroy is final — a save of the entry loaded before it (a request in flight) does not bring it back`, async () => {
        const a = model(name);
        const id = uniq(name);
        const uid = uniq('uid');
        const accountId = uniq('acc');
        await a.upsert(id, { jti: id, kind: name, uid, accountId }, 600);
        await a.destroy(id);
        await a.upsert(id, { jti: id, kind: name, uid, accountId, touched: true }, 600);
        expect(await a.find(id)).to.equal(undefined);
        expect(await a.findByUid(uid)).to.equal(undefined);
        expect(await getStore().listOidcByAccountId(name, accountId)).to.deep.equal([]);
        // Destroy and the late save racing: whichever order the store runs them in, it stays ended.
        const raced = uniq(name);
        await a.upsert(raced, { jti: raced, kind: name }, 600);
        await Promise.all([a.destroy(raced), a.upsert(raced, { jti: raced, kind: name, late: true }, 600)]);
        await a.upsert(raced, { jti: raced, kind: name, later: true }, 600);
        expect(await a.find(raced)).to.equal(undefined);
        // Ending an entry never saved is not an error, and blocks it too.
        const never = uniq(name);
        await a.destroy(never);
        await a.upsert(never, { jti: never }, 600);
        expect(await a.find(never)).to.equal(undefined);
      });
    }

    it('destroy of other models is a plain removal: the id may be written again', async () => {
      const a = model('Interaction');
      const id = uniq('int');
      await a.upsert(id, { jti: id }, 600);
      await a.destroy(id);
      await a.upsert(id, { jti: id, again: true }, 600);
      expect(await a.find(id)).to.deep.equal({ jti: id, again: true });
    });

    it('revokeByGrantId removes every model sharing the grant and leaves the rest', async () => {
      const grantId = uniq('grant');
      const other = uniq('grant');
      const entries: [string, string, string][] = [
        ['AuthorizationCode', uniq('code'), grantId],
        ['AccessToken', uniq('at'), grantId],
        ['RefreshToken', uniq('rt'), grantId],
        ['AccessToken', uniq('at'), other],
        ['RefreshToken', uniq('rt'), other],
      ];
      for (const [m, id, g] of entries) await model(m).upsert(id, { jti: id, grantId: g }, 600);
      const loose = uniq('sess');
      await model('Session').upsert(loose, { jti: loose }, 600);

      await model('AccessToken').revokeByGrantId(grantId);

      for (const [m, id, g] of entries) {
        const found = await model(m).find(id);
        if (g === grantId) expect(found, `${m} ${id}`).to.equal(undefined);
        else expect(found, `${m} ${id}`).to.deep.equal({ jti: id, grantId: g });
      }
      expect(await model('Session').find(loose)).to.deep.equal({ jti: loose });
    });

    it("store.revokeOidcByAccountId removes the account's entries in every model and counts them", async () => {
      const [me, other] = [uniq('acc'), uniq('acc')];
      const mine: [string, string][] = [
        ['Session', uniq('sess')],
        ['Grant', uniq('grant')],
        ['AccessToken', uniq('at')],
      ];
      for (const [m, id] of mine) await model(m).upsert(id, { jti: id, accountId: me }, 600);
      const theirs = uniq('rt');
      await model('RefreshToken').upsert(theirs, { jti: theirs, accountId: other }, 600);
      const anonymous = uniq('int');
      await model('Interaction').upsert(anonymous, { jti: anonymous }, 600);

      expect(await getStore().revokeOidcByAccountId(me)).to.equal(3);
      for (const [m, id] of mine) expect(await model(m).find(id), m).to.equal(undefined);
      expect(await model('RefreshToken').find(theirs)).to.deep.equal({ jti: theirs, accountId: other });
      expect(await model('Interaction').find(anonymous)).to.deep.equal({ jti: anonymous });
      expect(await getStore().revokeOidcByAccountId(me)).to.equal(0);
    });

    it('store.listOidcByAccountId lists the live entries of one model for one account', async () => {
      const [me, other] = [uniq('acc'), uniq('acc')];
      const [s1, s2, expired, theirs, grant] = [uniq('sess'), uniq('sess'), uniq('sess'), uniq('sess'), uniq('grant')];
      await model('Session').upsert(s1, { jti: s1, uid: uniq('uid'), accountId: me }, 600);
      await model('Session').upsert(s2, { jti: s2, accountId: me }, 600);
      await model('Session').upsert(expired, { jti: expired, accountId: me }, 1);
      await model('Session').upsert(theirs, { jti: theirs, accountId: other }, 600);
      await model('Grant').upsert(grant, { jti: grant, accountId: me }, 600);
      await sleep(1100);
      const listed = await getStore().listOidcByAccountId('Session', me);
      expect(listed.map((e) => e.id).sort()).to.deep.equal([s1, s2].sort());
      expect(listed.find((e) => e.id === s2)!.payload).to.deep.equal({ jti: s2, accountId: me });
      expect(await getStore().listOidcByAccountId('Session', uniq('nobody'))).to.deep.equal([]);
    });

    it('an expired entry is absent even before any sweep', async () => {
      const a = model('Interaction');
      const id = uniq('int');
      const uid = uniq('uid');
      const userCode = uniq('uc');
      await a.upsert(id, { jti: id, uid, userCode }, 1);
      expect(await a.find(id)).to.deep.equal({ jti: id, uid, userCode });
      await sleep(1100);
      expect(await a.find(id)).to.equal(undefined);
      expect(await a.findByUid(uid)).to.equal(undefined);
      expect(await a.findByUserCode(userCode)).to.equal(undefined);
    });

    it('an entry upserted with expiresIn 0 does not expire', async () => {
      const a = model('Client');
      const id = uniq('client');
      await a.upsert(id, { client_id: id }, 0);
      expect(await a.find(id)).to.deep.equal({ client_id: id });
    });

    it('upsert overwrites the payload, its lookup fields and clears consumed', async () => {
      const a = model('DeviceCode');
      const id = uniq('dc');
      const [uid1, uid2] = [uniq('uid'), uniq('uid')];
      const [g1, g2] = [uniq('grant'), uniq('grant')];
      await a.upsert(id, { jti: id, uid: uid1, grantId: g1, old: true }, 600);
      await a.consume(id);
      expect((await a.find(id))?.consumed).to.be.a('number');

      await a.upsert(id, { jti: id, uid: uid2, grantId: g2, fresh: 1 }, 600);
      expect(await a.find(id)).to.deep.equal({ jti: id, uid: uid2, grantId: g2, fresh: 1 });
      expect(await a.findByUid(uid1)).to.equal(undefined);
      expect(await a.findByUid(uid2)).to.deep.equal({ jti: id, uid: uid2, grantId: g2, fresh: 1 });
      await a.revokeByGrantId(g1);
      expect(await a.find(id), 'the old grant no longer owns it').not.to.equal(undefined);
      await a.revokeByGrantId(g2);
      expect(await a.find(id)).to.equal(undefined);
    });

    it('models are separate namespaces', async () => {
      const id = uniq('shared');
      const uid = uniq('uid');
      await model('AccessToken').upsert(id, { jti: id, kind: 'AccessToken' }, 600);
      await model('RefreshToken').upsert(id, { jti: id, kind: 'RefreshToken', uid }, 600);
      expect(await model('AccessToken').find(id)).to.deep.equal({ jti: id, kind: 'AccessToken' });
      expect(await model('RefreshToken').find(id)).to.deep.equal({ jti: id, kind: 'RefreshToken', uid });
      expect(await model('AccessToken').findByUid(uid)).to.equal(undefined);

      await model('AccessToken').consume(id);
      expect(await model('RefreshToken').find(id)).not.to.have.property('consumed');
      await model('AccessToken').destroy(id);
      expect(await model('AccessToken').find(id)).to.equal(undefined);
      expect(await model('RefreshToken').find(id)).to.deep.equal({ jti: id, kind: 'RefreshToken', uid });
    });
    describe('consume is a conditional write (one-time artefacts)', () => {
      const PARALLEL = 12;

      for (const name of [
        'AuthorizationCode',
        'RefreshToken',
        'PushedAuthorizationRequest',
        'DeviceCode',
        'BackchannelAuthenticationRequest',
      ]) {
        it(`${name}: of ${PARALLEL} parallel consumers exactly one wins`, async () => {
          const a = model(name);
          const id = uniq('once');
          await a.upsert(id, { jti: id, grantId: uniq('grant') }, 600);
          const results = await Promise.all(Array.from({ length: PARALLEL }, () => a.consume(id)));
          expect(results.filter(Boolean)).to.have.length(1);
          expect((await a.find(id))?.consumed).to.be.a('number');
        });
      }

      it('parallel consumers through separate adapter handles of one model: exactly one wins', async () => {
        const id = uniq('code');
        await model('AuthorizationCode').upsert(id, { jti: id }, 600);
        const results = await Promise.all(Array.from({ length: PARALLEL }, () => getStore().oidcAdapter('AuthorizationCode').consume(id)));
        expect(results.filter(Boolean)).to.have.length(1);
      });

      it('a second consume after the first one finished loses', async () => {
        const a = model('AuthorizationCode');
        const id = uniq('code');
        await a.upsert(id, { jti: id }, 600);
        expect(await a.consume(id)).to.equal(true);
        expect(await a.consume(id)).to.equal(false);
      });

      it('consume sees a write still pending: upsert and consume started together, the consume wins once', async () => {
        const a = model('RefreshToken');
        const id = uniq('rt');
        const [, first, second] = await Promise.all([a.upsert(id, { jti: id }, 600), a.consume(id), a.consume(id)]);
        expect([first, second].filter(Boolean)).to.have.length(1);
        expect((await a.find(id))?.consumed).to.be.a('number');
      });

      it('consuming an unknown, expired or destroyed entry loses', async () => {
        const a = model('AuthorizationCode');
        expect(await a.consume(uniq('missing'))).to.equal(false);
        const expired = uniq('code');
        await a.upsert(expired, { jti: expired }, 1);
        await sleep(1100);
        expect(await a.consume(expired)).to.equal(false);
        const destroyed = uniq('code');
        await a.upsert(destroyed, { jti: destroyed }, 600);
        await a.destroy(destroyed);
        expect(await a.consume(destroyed)).to.equal(false);
      });

      it('an upsert of the same id clears consumed: the new entry can be consumed once', async () => {
        const a = model('PushedAuthorizationRequest');
        const id = uniq('par');
        await a.upsert(id, { jti: id }, 600);
        expect(await a.consume(id)).to.equal(true);
        await a.upsert(id, { jti: id }, 600);
        const results = await Promise.all([a.consume(id), a.consume(id), a.consume(id)]);
        expect(results.filter(Boolean)).to.have.length(1);
      });
    });
  });
}
