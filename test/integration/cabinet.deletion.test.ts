/**
 * Deleting the account (/account/delete): a fresh sign-in and the password; the account is
 * deactivated at once (sign-in refused, sessions and tokens revoked, relying parties' tokens
 * inactive, userinfo refused), restorable by signing in within the grace, erased after it with
 * the audit keeping no document numbers.
 */
import { expect } from 'chai';
import request from 'supertest';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { startHarness, TEST_REDIRECT, TEST_SECRET, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, openCabinet, pkce } from '../support/flows.ts';
import { auditOfType, createAccount, firstError, sqlite } from './fixtures.ts';

const PHONE = '+79123456789';
const SNILS = '11223344595';
const OFFLINE = { scope: 'openid profile offline_access', prompt: 'consent' };
const DAY_MS = 86_400_000;

const introspect = async (h: Harness, token: string) =>
  (await request(h.url).post('/token/introspection').auth('rp-basic', TEST_SECRET).type('form').send({ token })).body as {
    active: boolean;
  };

/** A relying party's sign-in on its own browser: the tokens it got. */
async function rpTokens(h: Harness): Promise<Record<string, string>> {
  const browser = new Browser(h);
  const { verifier, challenge } = pkce();
  const login = await browser.get(authorizePath(OFFLINE, challenge));
  let page = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
  if (page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
  const res = await request(h.url)
    .post('/token')
    .auth('rp-basic', TEST_SECRET)
    .type('form')
    .send({ grant_type: 'authorization_code', code: codeFrom(page.location), redirect_uri: TEST_REDIRECT, code_verifier: verifier });
  expect(res.status, res.text).to.equal(200);
  return res.body as Record<string, string>;
}

/** Moves the sign-in time of the account's sessions `seconds` into the past. */
async function ageSessions(h: Harness, accountId: string, seconds: number): Promise<void> {
  const adapter = h.services.store.oidcAdapter('Session');
  const rows = sqlite(h).prepare("SELECT id FROM oidc WHERE model = 'Session' AND account_id = ?").all(accountId) as Array<{ id: string }>;
  for (const { id } of rows) {
    const session = (await adapter.find(id))!;
    await adapter.upsert(id, { ...session, loginTs: (session.loginTs as number) - seconds }, 3600);
  }
}

describe('cabinet: deleting the account', function () {
  let h: Harness;
  let accountId: string;
  let browser: Browser;
  let page: Page;
  beforeEach(async () => {
    h = await startHarness();
    const account = await createAccount(h, { phone: PHONE, snils: SNILS, snilsVerified: true });
    // a passport on the account: its number must not survive the erasure anywhere
    await h.services.store.accounts.update(
      {
        ...account,
        identity: { passport: { series: '4510', number: '123456', issueDate: '2010-01-01', issuer: 'ОВД', departmentCode: '770-001' } },
      },
      account.version,
    );
    accountId = account.id;
    browser = new Browser(h);
    page = await openCabinet(browser, '/account/delete', PHONE);
  });
  afterEach(() => h.close());

  it('the cabinet links to it; the page says what happens and when', async () => {
    expect((await browser.get('/account')).html).to.include('href="/account/delete"');
    expect(page.url).to.equal('/account/delete');
    expect(page.html).to.include('Удалить учётную запись');
    expect(page.html).to.include('личные данные — удалены через 30 дн.');
    expect(page.html).to.include('id="delete-form"');
  });

  it('deactivates at once: sign-in refused, sessions ended, relying parties’ tokens inactive and userinfo refused', async () => {
    const tokens = await rpTokens(h);
    expect((await introspect(h, tokens.access_token!)).active).to.equal(true);
    const done = await browser.submit(page, '/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    expect(done.status, done.html).to.equal(200);
    expect(done.html).to.include('Учётная запись отключена');
    const stored = (await h.services.store.accounts.findById(accountId))!;
    expect(stored.status).to.equal('deactivated');
    expect(Date.parse(stored.deletion!.eraseAfter) - Date.parse(stored.deletion!.requestedAt)).to.equal(30 * DAY_MS);
    expect((await introspect(h, tokens.access_token!)).active).to.equal(false);
    expect((await introspect(h, tokens.refresh_token!)).active).to.equal(false);
    const userinfo = await request(h.url).get('/me').set('authorization', `Bearer ${tokens.access_token}`);
    expect(userinfo.status).to.equal(401);
    const refreshed = await request(h.url)
      .post('/token')
      .auth('rp-basic', TEST_SECRET)
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(refreshed.status).to.equal(400);
    // the cabinet session is gone
    const cabinet = await browser.get('/account');
    expect(cabinet.html).to.include('name="identifier"');
    // the citizen was told how to cancel
    expect(h.gateway.sent.some((m) => m.to === PHONE && m.text.includes('восстановите'))).to.equal(true);
    expect(auditOfType(h, 'account.deletion_requested').filter((e) => e.outcome === 'success')).to.have.length(1);
  });

  it('signing in within the grace offers to restore; restoring signs in and the account is active again', async () => {
    await browser.submit(page, '/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    const other = new Browser(h);
    const login = await other.get(authorizePath());
    const wrong = await other.submit(login, '/login', { identifier: PHONE, password: 'Не-Тот-Пароль-1' });
    expect(wrong.status).to.equal(401);
    expect(wrong.html).to.not.include('восстановить');
    const offer = await other.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(offer.status).to.equal(403);
    expect(offer.html).to.include('Вы удалили эту учётную запись');
    expect(offer.location, 'no code for the relying party').to.equal(undefined);
    // a restore without the CSRF token is refused
    const forged = await other.post(offer.url.replace(/\/login$/, '/restore'), {});
    expect(forged.status).to.equal(403);
    let after = await other.submit(offer, '/restore', {});
    if (after.html.includes('/consent')) after = await other.submit(after, '/consent', { decision: 'allow' });
    expect(after.location).to.match(/^https:\/\/rp\.example\.test\/cb\?code=/);
    const stored = (await h.services.store.accounts.findById(accountId))!;
    expect(stored.status).to.equal('active');
    expect(stored.deletion).to.equal(undefined);
    expect(auditOfType(h, 'account.deletion_cancelled')).to.have.length(1);
    expect(
      h.gateway.sent
        .filter((m) => m.to === PHONE)
        .map((m) => m.text)
        .join('\n'),
    ).to.include('удаление вашей учётной записи отменено');
    // nothing is erased later
    expect(await h.services.accountDeletion.eraseDue(new Date(Date.now() + 60 * DAY_MS))).to.equal(0);
  });

  it('"restore" sent twice (a double click): restored once, and both answers lead on to the relying party — not "the offer has expired"', async () => {
    await browser.submit(page, '/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    const other = new Browser(h);
    const login = await other.get(authorizePath());
    const offer = await other.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    const restore = offer.url.replace(/\/login$/, '/restore');
    const answers = await Promise.all([1, 2].map(() => other.post(restore, { _csrf: csrfOf(offer.html) }, false)));
    for (const answer of answers) {
      expect(answer.status, answer.html.slice(0, 300)).to.equal(303);
      expect(answer.location).to.match(/\/auth\//);
    }
    let after = await other.get(answers[1]!.location!);
    if (after.html.includes('/consent')) after = await other.submit(after, '/consent', { decision: 'allow' });
    expect(after.location).to.match(/^https:\/\/rp\.example\.test\/cb\?code=/);
    expect(auditOfType(h, 'account.deletion_cancelled')).to.have.length(1);
    expect((await h.services.store.accounts.findById(accountId))!.status).to.equal('active');
  });

  it('within the grace the owner who forgot the password recovers it by phone and then restores; registering the phone says it is taken', async () => {
    await browser.submit(page, '/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    const NEW_PASSWORD = 'Синий-Слон-17#';
    const other = new Browser(h);
    const codePage = await other.submit(await other.get('/recover'), 'recover', { contact: PHONE });
    expect(codePage.status, codePage.html).to.equal(200);
    expect(h.gateway.last(PHONE)!.text, 'a recovery code, not "this contact has no account"').to.match(/восстановления доступа \d{6}/);
    const passwordPage = await other.submit(codePage, 'recover/', { code: h.gateway.code(PHONE) });
    const done = await other.submit(passwordPage, 'recover/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
    expect(done.status, done.html).to.equal(200);
    const stored = (await h.services.store.accounts.findById(accountId))!;
    expect(stored.status, 'still deleted until its owner restores it').to.equal('deactivated');
    // The new password leads to the restore offer, the old one no longer does.
    const login = await other.get(authorizePath());
    expect((await other.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD })).status).to.equal(401);
    const offer = await other.submit(login, '/login', { identifier: PHONE, password: NEW_PASSWORD });
    expect(offer.html).to.include('Вы удалили эту учётную запись');

    // Registering the same phone: the "you already have an account" notice, no code to a form that ends in a 409.
    const registration = await other.submit(await other.get('/register'), 'register', { contact: PHONE });
    expect(registration.status).to.be.below(500);
    expect(h.gateway.last(PHONE)!.text).to.include('у вас уже есть учётная запись');
    expect(h.gateway.last(PHONE)!.text).to.not.match(/\d{6}/);
  });

  it('past the grace a restore is refused, even before the erasure job has run', async () => {
    await browser.submit(page, '/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    const other = new Browser(h);
    const offer = await other.submit(await other.get(authorizePath()), '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(offer.status).to.equal(403);
    // the grace ends while the page is open
    const stored = (await h.services.store.accounts.findById(accountId))!;
    const past = { ...stored, deletion: { ...stored.deletion!, eraseAfter: new Date(Date.now() - 1000).toISOString() } };
    await h.services.store.accounts.update(past, stored.version);
    const late = await other.submit(offer, '/restore', {});
    expect(late.status).to.equal(410);
    expect((await h.services.store.accounts.findById(accountId))!.status).to.equal('deactivated');
    expect(auditOfType(h, 'account.deletion_cancelled')).to.have.length(0);
  });

  it('erases after the grace: the record and its keys are gone, the audit keeps no document numbers, its letters no recipient', async () => {
    // confirmation letters to the account: one posted, one still queued
    const recipient = { name: 'Иванова Мария', address: { formatted: 'г. Москва, ул. Тверская, д. 1, кв. 1', postalCode: '125009' } };
    for (const [id, createdAt] of [
      ['letter-sent', '2026-01-01T00:00:00.000Z'],
      ['letter-queued', '2026-01-02T00:00:00.000Z'],
    ] as const) {
      await h.services.store.letters.create({ id, accountId, status: 'queued', createdAt, recipient, sealedCode: 'sealed' });
    }
    await h.services.store.letters.markSent('letter-sent', '2026-01-03T00:00:00.000Z', 'op-1');
    await browser.submit(page, '/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    expect(await h.services.accountDeletion.eraseDue(new Date(Date.now() + 29 * DAY_MS))).to.equal(0);
    expect(await h.services.accountDeletion.eraseDue(new Date(Date.now() + 31 * DAY_MS))).to.equal(1);
    expect(await h.services.store.accounts.findById(accountId)).to.equal(undefined);
    expect(await h.services.store.accounts.findByKey({ kind: 'phone', value: PHONE })).to.equal(undefined);
    expect(await h.services.store.accounts.findByKey({ kind: 'snils', value: SNILS })).to.equal(undefined);
    const trail = JSON.stringify(await h.services.store.audit.listForAccount(accountId, 1000));
    expect(trail).to.include('account.erased');
    for (const secret of [SNILS, '123456', '4510', PHONE]) expect(trail).to.not.include(secret);
    // 152-FZ: the letters keep no name or address; the queued one will not be posted
    const letters = sqlite(h).prepare('SELECT doc FROM letters').all() as Array<{ doc: string }>;
    expect(letters).to.have.length(2);
    for (const { doc } of letters) for (const personal of ['Иванова', 'Тверская', '125009', 'sealed']) expect(doc).to.not.include(personal);
    expect(await h.services.store.letters.find('letter-sent')).to.include({ status: 'sent', sentBy: 'op-1' });
    expect(await h.services.store.letters.find('letter-queued')).to.include({ status: 'cancelled', cancelReason: 'erased' });
    // signing in now finds no account (the same answer as a wrong password)
    const other = new Browser(h);
    const refused = await other.submit(await other.get(authorizePath()), '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(refused.status).to.equal(401);
  });

  it('needs a fresh sign-in: the page says so before the form, and a stale POST is refused', async () => {
    await ageSessions(h, accountId, 600);
    const stale = await browser.get('/account/delete');
    expect(stale.html).to.include('id="fresh-needed"');
    expect(stale.html).to.not.include('id="delete-form"');
    expect(stale.html).to.include('href="/account/reauth?return=/account/delete"');
    const refused = await browser.post('/account/delete', { _csrf: csrfOf(page.html), password: GOOD_PASSWORD, understand: 'on' });
    expect(refused.status).to.equal(403);
    expect((await h.services.store.accounts.findById(accountId))!.status).to.equal('active');
    // the re-sign-in has the login filled in and returns to the form
    const reauth = await browser.get('/account/reauth?return=/account/delete');
    expect(reauth.html).to.match(/name="identifier"[^>]*value="\+79123456789"/);
    const back = await browser.submit(reauth, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    expect(back.url).to.equal('/account/delete');
    expect(back.html).to.include('id="delete-form"');
  });

  it('refuses a POST without the CSRF token, a wrong password and a missing confirmation', async () => {
    const forged = await browser.post('/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    expect(forged.status).to.equal(403);
    const wrong = await browser.submit(page, '/account/delete', { password: 'Не-Тот-Пароль-1', understand: 'on' });
    expect(wrong.status).to.equal(401);
    expect(firstError(wrong.html)).to.equal('Пароль неверный.');
    const unticked = await browser.submit(page, '/account/delete', { password: GOOD_PASSWORD });
    expect(unticked.status).to.equal(400);
    expect(firstError(unticked.html)).to.equal('Отметьте, что вы понимаете последствия удаления.');
    const signedOut = await new Browser(h).post('/account/delete', { password: GOOD_PASSWORD, understand: 'on' });
    expect(signedOut.status).to.be.oneOf([401, 403]);
    expect((await h.services.store.accounts.findById(accountId))!.status).to.equal('active');
  });
});
