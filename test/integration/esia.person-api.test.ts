/**
 * ESIA drop-in (issue 13): the person REST API with an ESIA access token — only the consented
 * scopes, ESIA's shapes (dates dd.MM.yyyy, gender M/F, contacts MBT/EML and the passport
 * RF_PASSPORT with vrfStu from vkhod's verifications), collections as references or embedded, each
 * element at its URL; another person's oid or a missing scope → 403, an unknown path → 404. Then
 * logout at ESIA's URL, and tokens signed GOST R 34.10-2012 for a client registered for it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { newVerification } from '../../src/accounts/verification.ts';
import { Browser } from '../support/browser.ts';
import { EsiaRelyingParty, esiaSignIn, ESIA_RP_LOGOUT } from '../support/esia-rp.ts';
import { GOOD_PASSWORD } from '../support/flows.ts';
import { defaultClients, startHarness, type Harness } from '../support/harness.ts';
import { gostEngineAvailable, skipWithoutGostEngine } from '../support/openssl-gost.ts';
import { createAccount, resetStore } from './fixtures.ts';
import { makeStandard, saveIdentity, snilsFor } from '../support/identity.ts';

const PHONE = '+79123456789';
const OTHER_PHONE = '+79123450000';

describe('ESIA profile: the person REST API, logout, GOST-signed tokens', function () {
  this.timeout(60_000);
  let h: Harness;
  let rp: EsiaRelyingParty;
  let gostRp: EsiaRelyingParty | undefined;
  let accountId: string;
  before(async () => {
    rp = new EsiaRelyingParty('ESIA_RP', 'rsa');
    if (gostEngineAvailable()) gostRp = new EsiaRelyingParty('ESIA_GOST', 'gost', 'openid fullname');
    h = await startHarness({
      clients: [
        ...defaultClients(),
        rp.registration(),
        ...(gostRp ? [gostRp.registration({ token_signing_alg: 'GOST3410_2012_256' })] : []),
      ],
    });
  });
  after(async () => {
    await h.close();
    rp.close();
    gostRp?.close();
  });
  beforeEach(async () => {
    resetStore(h);
    const account = await createAccount(h, {
      phone: PHONE,
      name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' },
      snils: '11223344595',
    });
    accountId = account.id;
    await h.services.accounts.modify(account.id, (a) => {
      const withData = {
        ...a,
        email: 'maria@example.test',
        emailVerified: false,
        identity: {
          birthDate: '1990-04-12',
          gender: 'female' as const,
          inn: '500100732259',
          passport: {
            series: '4510',
            number: '123456',
            issueDate: '2010-05-20',
            issuer: 'ОВД Тверского района г. Москвы',
            departmentCode: '770-001',
          },
          address: { formatted: 'г. Москва, ул. Тверская, д. 1, кв. 2', postalCode: '125009' },
        },
      };
      return {
        ...withData,
        verifications: [
          newVerification(withData, { method: 'registry', level: 'standard', actor: 'test', evidence: {}, items: ['snils', 'id_doc'] }),
        ],
      };
    });
    await createAccount(h, { phone: OTHER_PHONE });
  });

  async function tokensFor(scope: string, party = rp, phone = PHONE): Promise<{ access: string; oid: number; id: string }> {
    const back = await esiaSignIn(h, party.authorizePath({ scope }).path, phone);
    const res = await party.tokenRequest(h.url, party.tokenForm({ code: back.searchParams.get('code')! }, { scope }));
    expect(res.status, res.text).to.equal(200);
    return { access: res.body.access_token, id: res.body.id_token, oid: decodeJwt(res.body.access_token)['urn:esia:sbj_id'] as number };
  }

  const get = (path: string, token: string) => request(h.url).get(path).set('authorization', `Bearer ${token}`);

  it('/rs/prns/{oid}: the person in ESIA’s shape, only the consented fields', async () => {
    const { access, oid } = await tokensFor('openid fullname birthdate gender snils');
    const res = await get(`/rs/prns/${oid}`, access);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({
      firstName: 'Мария',
      lastName: 'Иванова',
      middleName: 'Петровна',
      birthDate: '12.04.1990',
      gender: 'F',
      snils: '112-233-445 95',
      trusted: false,
      status: 'REGISTERED',
    });
    expect(res.body).to.not.have.any.keys('inn', 'citizenship', 'contacts', 'documents');
    expect(res.body.eTag).to.be.a('string');
  });

  it('a SNILS or INN typed in but not verified is not released (ESIA’s are always checked ones)', async () => {
    const { access, oid } = await tokensFor('openid fullname snils inn', rp, OTHER_PHONE);
    await h.services.accounts.modify((await h.services.store.esia.accountOfOid(oid))!, (a) => ({
      ...a,
      snils: '11223344595',
      identity: { ...a.identity, inn: '500100732259' },
    }));
    const res = await get(`/rs/prns/${oid}`, access);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ lastName: 'Иванова' });
    expect(res.body).to.not.have.any.keys('snils', 'inn');
  });

  it('contacts, addresses and documents: references, ?embed=(elements), and each element', async () => {
    const { access, oid } = await tokensFor('openid fullname contacts addresses id_doc');
    const refs = await get(`/rs/prns/${oid}/ctts`, access);
    expect(refs.status).to.equal(200);
    expect(refs.body).to.include({ size: 2 });
    expect(refs.body.elements).to.deep.equal([`${h.url}/rs/prns/${oid}/ctts/1`, `${h.url}/rs/prns/${oid}/ctts/2`]);
    const contacts = await get(`/rs/prns/${oid}/ctts?embed=(elements)`, access);
    expect(contacts.body.elements.map((e: Record<string, unknown>) => [e.type, e.value, e.vrfStu])).to.deep.equal([
      ['MBT', '+7(912)3456789', 'VERIFIED'],
      ['EML', 'maria@example.test', 'NOT_VERIFIED'],
    ]);
    const one = await get(`/rs/prns/${oid}/ctts/2`, access);
    expect(one.body).to.include({ type: 'EML', value: 'maria@example.test' });
    const docs = await get(`/rs/prns/${oid}/docs?embed=(elements)`, access);
    expect(docs.body.elements[0]).to.include({
      type: 'RF_PASSPORT',
      series: '4510',
      number: '123456',
      issueDate: '20.05.2010',
      issueId: '770-001',
      issuedBy: 'ОВД Тверского района г. Москвы',
      vrfStu: 'VERIFIED',
    });
    const addrs = await get(`/rs/prns/${oid}/addrs?embed=(elements)`, access);
    expect(addrs.body.elements[0]).to.include({ addressStr: 'г. Москва, ул. Тверская, д. 1, кв. 2', zipCode: '125009' });
    const person = await get(`/rs/prns/${oid}?embed=(contacts.elements,documents.elements)`, access);
    expect(person.body.contacts.elements).to.have.length(2);
    expect(person.body.documents.elements[0].type).to.equal('RF_PASSPORT');
  });

  it('a scope not consented: 403 (contacts only with email/mobile/contacts, documents only with id_doc)', async () => {
    const { access, oid } = await tokensFor('openid fullname');
    for (const path of [`/rs/prns/${oid}/ctts`, `/rs/prns/${oid}/docs`, `/rs/prns/${oid}/addrs`, `/rs/prns/${oid}/docs/1`]) {
      const res = await get(path, access);
      expect(res.status, path).to.equal(403);
      expect(res.body.code, path).to.be.a('string');
    }
    const mobileOnly = await tokensFor('openid mobile');
    const contacts = await get(`/rs/prns/${mobileOnly.oid}/ctts?embed=(elements)`, mobileOnly.access);
    expect(contacts.body.elements.map((e: Record<string, unknown>) => e.type)).to.deep.equal(['MBT']);
    expect((await get(`/rs/prns/${mobileOnly.oid}/ctts/2`, mobileOnly.access)).status).to.equal(404);
  });

  it('another person’s oid: 403; no token or a forged one: 401; an unknown path: 404', async () => {
    const mine = await tokensFor('openid fullname');
    const theirs = await tokensFor('openid fullname', rp, OTHER_PHONE);
    expect(theirs.oid).to.not.equal(mine.oid);
    const res = await get(`/rs/prns/${theirs.oid}`, mine.access);
    expect(res.status).to.equal(403);
    expect(res.body).to.not.have.property('firstName');
    expect((await request(h.url).get(`/rs/prns/${mine.oid}`)).status).to.equal(401);
    const [hd, , sig] = mine.access.split('.');
    const forged = `${hd}.${Buffer.from(JSON.stringify({ ...decodeJwt(mine.access), 'urn:esia:sbj_id': theirs.oid })).toString('base64url')}.${sig}`;
    expect((await get(`/rs/prns/${theirs.oid}`, forged)).status).to.equal(401);
    expect((await get(`/rs/prns/${mine.oid}/vhls`, mine.access)).status).to.equal(404);
    expect((await get(`/rs/prns/${mine.oid}/ctts/1/extra`, mine.access)).status).to.equal(404);
    // Names of Object.prototype's members are no collections either (they were a 500).
    for (const name of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'constructor/1']) {
      const res = await get(`/rs/prns/${mine.oid}/${name}`, mine.access);
      expect(res.status, name).to.equal(404);
      expect(JSON.stringify(res.body), name).to.include('ESIA-005001');
    }
    const embedded = await get(`/rs/prns/${mine.oid}?embed=(constructor.elements,toString.elements)`, mine.access);
    expect(embedded.status).to.equal(200);
    expect(Object.keys(embedded.body)).to.not.include.members(['constructor', 'toString']);
  });

  it('after the level drops below the sign-in’s acr: the person API refuses its token and its refresh token gets nothing (as on the OIDC side)', async () => {
    const STANDARD_PHONE = '+79123450011';
    const citizen = await createAccount(h, { phone: STANDARD_PHONE, name: { family: 'Иванова', given: 'Мария', middle: 'Петровна' } });
    await makeStandard(h, citizen.id, { snils: snilsFor('123456780'), passport_number: '654321' });
    const scope = 'openid fullname';
    const back = await esiaSignIn(h, rp.authorizePath({ scope, accessType: 'offline' }).path, STANDARD_PHONE);
    const tokens = await rp.tokenRequest(h.url, rp.tokenForm({ code: back.searchParams.get('code')! }, { scope }));
    expect(tokens.status, tokens.text).to.equal(200);
    expect(decodeJwt(tokens.body.id_token as string).acr).to.equal('urn:vkhod:loa:standard');
    const oid = decodeJwt(tokens.body.access_token as string)['urn:esia:sbj_id'] as number;
    expect((await get(`/rs/prns/${oid}`, tokens.body.access_token as string)).status).to.equal(200);

    await saveIdentity(h, citizen.id, { snils: snilsFor('123456789') });
    const read = await get(`/rs/prns/${oid}`, tokens.body.access_token as string);
    expect(read.status).to.equal(401);
    expect(read.body.code).to.equal('ESIA-005010');
    const refreshed = await rp.tokenRequest(h.url, rp.tokenForm({ refresh_token: tokens.body.refresh_token as string }, { scope }));
    expect(refreshed.status, refreshed.text).to.equal(400);
    expect(refreshed.body).to.not.have.property('id_token');
  });

  it('revoking the sign-in’s grant (what withdrawing the consent in the cabinet does) ends its access tokens', async () => {
    const { access, oid } = await tokensFor('openid fullname');
    expect((await get(`/rs/prns/${oid}`, access)).status).to.equal(200);
    const grants = await h.services.store.listOidcByAccountId('Grant', accountId);
    for (const g of grants) await h.services.store.oidcAdapter('EsiaAccessToken').revokeByGrantId(g.id);
    expect((await get(`/rs/prns/${oid}`, access)).status).to.equal(401);
  });

  it('logout at /idp/ext/Logout ends the session and returns to redirect_url; the next authorization asks to sign in again', async () => {
    const browser = new Browser(h);
    let page = await browser.get(rp.authorizePath({ scope: 'openid' }).path);
    page = await browser.submit(page, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    if (!page.location) page = await browser.submit(page, '/consent', { decision: 'allow' });
    expect(page.location).to.match(/code=/);
    // single sign-on: the next authorization needs no password
    const sso = await browser.get(rp.authorizePath({ scope: 'openid' }).path);
    expect(sso.location).to.match(/code=/);
    const out = await browser.agent.get(`/idp/ext/Logout?${new URLSearchParams({ client_id: rp.clientId, redirect_url: ESIA_RP_LOGOUT })}`);
    expect(out.status).to.equal(302);
    expect(out.headers.location).to.equal(ESIA_RP_LOGOUT);
    const again = await browser.get(rp.authorizePath({ scope: 'openid' }).path);
    expect(again.location).to.equal(undefined);
    expect(again.html).to.include('name="identifier"');
  });

  it('logout to a redirect_url the client did not register, or for an unknown client: a page, no redirect', async () => {
    for (const query of [
      { client_id: rp.clientId, redirect_url: 'https://evil.example.test/' },
      { client_id: 'NOBODY', redirect_url: ESIA_RP_LOGOUT },
    ]) {
      const res = await request(h.url).get(`/idp/ext/Logout?${new URLSearchParams(query)}`);
      expect(res.status).to.equal(400);
      expect(res.headers.location).to.equal(undefined);
    }
  });

  it('a client registered for GOST gets GOST3410_2012_256 tokens that OpenSSL verifies with the published certificate', async function () {
    skipWithoutGostEngine(this);
    const { access, id, oid } = await tokensFor('openid fullname', gostRp!);
    expect(decodeProtectedHeader(access)).to.include({ alg: 'GOST3410_2012_256', sbt: 'access' });
    expect(decodeProtectedHeader(id).alg).to.equal('GOST3410_2012_256');
    const cert = await request(h.url).get('/aas/oauth2/certificates/gost2012_256.pem');
    expect(cert.status).to.equal(200);
    const dir = mkdtempSync(join(tmpdir(), 'vkhod-esia-gost-'));
    try {
      writeFileSync(join(dir, 'cert.pem'), cert.text);
      const pub = spawnSync('openssl', ['x509', '-engine', 'gost', '-in', join(dir, 'cert.pem'), '-pubkey', '-noout'], {
        encoding: 'utf8',
      });
      writeFileSync(join(dir, 'pub.pem'), pub.stdout);
      for (const token of [access, id]) {
        const [hd, pl, sig] = token.split('.');
        writeFileSync(join(dir, 'input'), `${hd}.${pl}`);
        writeFileSync(join(dir, 'sig'), Buffer.from(sig!, 'base64url'));
        const verified = spawnSync(
          'openssl',
          [
            'dgst',
            '-engine',
            'gost',
            '-md_gost12_256',
            '-verify',
            join(dir, 'pub.pem'),
            '-signature',
            join(dir, 'sig'),
            join(dir, 'input'),
          ],
          {
            encoding: 'utf8',
          },
        );
        expect(verified.stdout + verified.stderr).to.include('Verified OK');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // and the person API takes the GOST-signed token
    expect((await get(`/rs/prns/${oid}`, access)).status).to.equal(200);
  });
});
