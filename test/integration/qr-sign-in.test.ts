/**
 * "Войти по QR-коду" over HTTP: two no-JS browsers, the computer (an interaction of rp-basic) and
 * the phone (signed in to the cabinet). Approval signs the computer in through `advance` with
 * `mca` in the amr; refusal and expiry are said on both sides; the phone's decision and the
 * computer's completion are single-use under parallel requests; a one-factor phone adds its
 * second factor first when the service asks for `-mfa`.
 */
import { expect } from 'chai';
import { decodeEntities, Browser, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { addTotp, authorizePath, openCabinet, passConsent, pkce, redeem, totpCode } from '../support/flows.ts';
import { holdReads } from '../support/races.ts';
import { auditOfType, createAccount, resetStore, sqlite } from './fixtures.ts';

const PHONE = '+79123456781';
const WINDOWS_CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36';
const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';

interface ComputerQr {
  uid: string;
  page: Page;
  /** the approval page's path, from the QR code's address */
  approval: string;
  code: string;
  id: string;
}

/** The computer opens the sign-in of rp-basic and chooses "Войти по QR-коду". */
async function openQr(h: Harness, computer: Browser, authorize: string): Promise<ComputerQr> {
  const login = await computer.get(authorize);
  expect(login.html).to.include('Войти по QR-коду');
  const uid = login.url.split('/')[2]!.split('?')[0]!;
  const page = await computer.get(`/interaction/${uid}/qr`);
  return { uid, page, ...qrOf(h, page) };
}

function qrOf(h: Harness, page: Page): { approval: string; code: string; id: string } {
  expect(page.status, page.html.slice(0, 500)).to.equal(200);
  expect(page.html).to.include('<svg');
  const url = decodeEntities(/data-qr-url="([^"]+)"/.exec(page.html)![1]!);
  expect(url.startsWith(`${h.url}/account/qr/`)).to.equal(true);
  const code = /id="qr-code"><strong>(\d+)</.exec(page.html)![1]!;
  const id = /data-next="[^"]*\?r=([^"]+)"/.exec(decodeEntities(page.html))![1]!;
  return { approval: url.slice(h.url.length), code, id };
}

async function status(computer: Browser, qr: ComputerQr): Promise<string> {
  const res = await computer.agent.get(`/interaction/${qr.uid}/qr/status?r=${encodeURIComponent(qr.id)}`).set('accept', 'application/json');
  expect(res.status).to.equal(200);
  return res.body.status as string;
}

/** Moves the request's expiry into the past, as if two minutes had gone by. */
function expireQr(h: Harness, uid: string): void {
  const result = sqlite(h)
    .prepare(`UPDATE oidc SET payload = json_set(payload, '$.expiresAt', ?) WHERE model = 'VkhodFlow' AND id = ?`)
    .run(Date.now() - 1, `qr.${uid}`);
  expect(Number(result.changes)).to.equal(1);
}

describe('QR sign-in over HTTP (computer and phone)', function () {
  let h: Harness;
  let phone: Browser;
  let computer: Browser;
  let accountId: string;

  before(async () => {
    h = await startHarness();
  });
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE })).id;
    phone = new Browser(h, { 'user-agent': ANDROID });
    computer = new Browser(h, { 'user-agent': WINDOWS_CHROME });
    const cabinet = await openCabinet(phone, '/account', PHONE);
    expect(cabinet.status).to.equal(200);
  });
  after(() => h.close());

  it('the phone sees the computer, the service and the code, approves; the computer signs in with amr pwd + mca', async () => {
    const { verifier, challenge } = pkce();
    const qr = await openQr(h, computer, authorizePath({}, challenge));
    expect(decodeEntities(qr.page.html), 'no-JS refresh').to.match(
      /<meta http-equiv="refresh" content="5; url=\/interaction\/[^"]+\/qr\?r=/,
    );
    expect(await status(computer, qr)).to.equal('pending');
    // Refreshing the page keeps the same request (one pending per page).
    expect(qrOf(h, await computer.get(`/interaction/${qr.uid}/qr?r=${qr.id}`)).approval).to.equal(qr.approval);

    const ask = await phone.get(qr.approval);
    expect(ask.status).to.equal(200);
    expect(ask.html).to.include('Тестовый сервис');
    expect(ask.html).to.include('Chrome 121, Windows');
    expect(ask.html).to.include('127.0.0.1');
    expect(/id="qr-code"><strong>(\d+)</.exec(ask.html)![1]).to.equal(qr.code);
    const approved = await phone.submit(ask, '/approve', {});
    expect(approved.html).to.include('Вход в сервис «Тестовый сервис» подтверждён');
    expect(await status(computer, qr)).to.equal('approved');

    const done = await passConsent(computer, await computer.get(`/interaction/${qr.uid}/qr?r=${qr.id}`));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.sub).to.equal(accountId);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified');
    expect(claims.amr).to.have.members(['pwd', 'mca']);

    const [event] = auditOfType(h, 'signin.qr');
    expect(event).to.deep.include({ accountId, outcome: 'success' });
    expect(event!.details).to.deep.include({ decision: 'approved', ua: ANDROID.slice(0, 200) });
    expect(event!.details!.computer).to.deep.equal({ ua: WINDOWS_CHROME.slice(0, 200), ip: '127.0.0.1' });
    const signins = auditOfType(h, 'signin').filter((e) => e.details?.method === 'qr');
    expect(signins).to.have.length(1);

    // Used: the QR code's address now leads nowhere.
    expect((await phone.get(qr.approval)).status).to.equal(410);

    // The citizen is told, and the cabinet's history shows both sides.
    expect(h.gateway.last(PHONE)?.text).to.match(
      /вход по QR-коду на устройстве Chrome 121, Windows \(IP 127\.0\.0\.1\) в сервис «Тестовый сервис»/,
    );
    const history = decodeEntities((await phone.get('/account/history')).html);
    expect(history).to.include('Вход по QR-коду подтверждён на этом телефоне для устройства Chrome 121, Windows (IP 127.0.0.1)');
    expect(history).to.include('Вход по QR-коду, подтверждённый с телефона');
    expect(history).to.include('Вход на компьютере по QR-коду');
  });

  it("the computer's sign-in is as old as the phone's: an old phone session does not make a fresh sign-in (max_age, the cabinet's rule)", async () => {
    const sessions = h.services.store.oidcAdapter('Session');
    const rows = sqlite(h).prepare("SELECT id FROM oidc WHERE model = 'Session' AND account_id = ?").all(accountId) as Array<{
      id: string;
    }>;
    for (const { id } of rows) {
      const session = (await sessions.find(id))!;
      await sessions.upsert(id, { ...session, loginTs: (session.loginTs as number) - 3600 }, 3600);
    }
    const { verifier, challenge } = pkce();
    const qr = await openQr(h, computer, authorizePath({}, challenge));
    await phone.submit(await phone.get(qr.approval), '/approve', {});
    const done = await passConsent(computer, await computer.get(`/interaction/${qr.uid}/qr?r=${qr.id}`));
    const { claims } = await redeem(h, done.location, verifier);
    const age = Math.floor(Date.now() / 1000) - (claims.auth_time as number);
    expect(age, 'auth_time is the phone sign-in’s, an hour ago (before: now)').to.be.greaterThan(3500);
  });

  it('a QR hand-over is told even with the new-device alerts off, and the sessions page names it as a QR approval', async () => {
    await h.services.accounts.modify(accountId, (a) => ({ ...a, extra: { ...a.extra, alerts: { sms: false, email: false } } }));
    const before = h.gateway.sent.length;
    const { verifier, challenge } = pkce();
    const qr = await openQr(h, computer, authorizePath({}, challenge));
    await phone.submit(await phone.get(qr.approval), '/approve', {});
    await redeem(h, (await passConsent(computer, await computer.get(`/interaction/${qr.uid}/qr?r=${qr.id}`))).location, verifier);
    const told = h.gateway.sent.slice(before).filter((m) => m.to === PHONE && /QR-коду/.test(m.text));
    expect(told, 'the alert despite the switches (it was silenced before)').to.have.length(1);
    const sessions = decodeEntities((await phone.get('/account/sessions')).html);
    expect(sessions).to.include('подтверждение с другого устройства (QR-код)');
  });

  it('refused on the phone: both sides say so, and the computer can show a new code', async () => {
    const qr = await openQr(h, computer, authorizePath());
    const ask = await phone.get(qr.approval);
    const refused = await phone.submit(ask, '/deny', {});
    expect(refused.html).to.include('отклонён');
    expect(await status(computer, qr)).to.equal('denied');
    const shown = await computer.get(`/interaction/${qr.uid}/qr?r=${qr.id}`);
    expect(shown.status).to.equal(403);
    expect(shown.html).to.include('Вход отклонён на телефоне.');
    expect(shown.location).to.equal(undefined);
    const again = qrOf(h, await computer.get(`/interaction/${qr.uid}/qr`));
    expect(again.approval).to.not.equal(qr.approval);
    expect(auditOfType(h, 'signin.qr').map((e) => [e.outcome, e.details?.decision])).to.deep.equal([['failure', 'denied']]);
    expect(decodeEntities((await phone.get('/account/history')).html)).to.include(
      'Вход по QR-коду отклонён на этом телефоне для устройства Chrome 121, Windows (IP 127.0.0.1)',
    );
    // A refused request cannot be approved afterwards.
    expect((await phone.post(`${qr.approval}/approve`, { _csrf: /name="_csrf" value="([^"]+)"/.exec(ask.html)![1]! })).status).to.equal(
      410,
    );
  });

  it('expired: the phone is told, the computer says so and shows a new code; the old one cannot be approved', async () => {
    const qr = await openQr(h, computer, authorizePath());
    const ask = await phone.get(qr.approval);
    expireQr(h, qr.uid);
    const late = await phone.get(qr.approval);
    expect(late.status).to.equal(410);
    expect(late.html).to.include('Срок запроса истёк');
    expect(await status(computer, qr)).to.equal('expired');
    const shown = await computer.get(`/interaction/${qr.uid}/qr?r=${qr.id}`);
    expect(shown.html).to.include('Срок прежнего QR-кода истёк. Показан новый код.');
    const fresh = qrOf(h, shown);
    expect(fresh.approval).to.not.equal(qr.approval);
    const approveOld = await phone.submit(ask, '/approve', {});
    expect(approveOld.status).to.equal(410);
    expect(await status(computer, { ...qr, id: fresh.id })).to.equal('pending');
  });

  it('two parallel approvals: exactly one is recorded', async () => {
    const qr = await openQr(h, computer, authorizePath());
    const ask = await phone.get(qr.approval);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(ask.html)![1]!;
    const release = holdReads(h, 'VkhodFlow', 2);
    const results = await Promise.all([1, 2].map(() => phone.post(`${qr.approval}/approve`, { _csrf: csrf })));
    release();
    expect(results.map((r) => r.status).sort()).to.deep.equal([200, 410]);
    expect(results.find((r) => r.status === 410)!.html).to.include('Этот запрос уже подтверждён.');
    expect(auditOfType(h, 'signin.qr')).to.have.length(1);
  });

  it('two parallel completions on the computer: exactly one signs in', async () => {
    const qr = await openQr(h, computer, authorizePath());
    await phone.submit(await phone.get(qr.approval), '/approve', {});
    const release = holdReads(h, 'VkhodFlow', 2);
    const results = await Promise.all(
      [1, 2].map(() => computer.agent.get(`/interaction/${qr.uid}/qr?r=${qr.id}`).set('user-agent', WINDOWS_CHROME)),
    );
    release();
    expect(results.map((r) => r.status).sort()).to.deep.equal([303, 409]);
    expect(auditOfType(h, 'signin').filter((e) => e.details?.method === 'qr')).to.have.length(1);
  });

  it('a service that asks for -mfa: a one-factor phone adds its second factor first, then the computer gets …-mfa', async () => {
    const secret = await addTotp(h, accountId);
    const { verifier, challenge } = pkce();
    const qr = await openQr(h, computer, authorizePath({ acr_values: 'urn:vkhod:loa:simplified-mfa' }, challenge));
    const ask = await phone.get(qr.approval);
    expect(ask.html).to.include('Подтвердить вторым фактором');
    expect(ask.html).to.not.include('id="qr-approve"');
    // Approving anyway is refused.
    const early = await phone.post(`${qr.approval}/approve`, { _csrf: /name="_csrf" value="([^"]+)"/.exec(ask.html)![1]! });
    expect(early.status).to.equal(403);
    const mfa = await phone.get(`${qr.approval}/step-up`);
    expect(mfa.html).to.include('/mfa/verify');
    const back = await phone.submit(mfa, '/mfa/verify', { code: await totpCode(secret) });
    expect(back.url.startsWith(qr.approval), back.url).to.equal(true);
    expect(back.html).to.include('id="qr-approve"');
    await phone.submit(back, '/approve', {});
    const done = await passConsent(computer, await computer.get(`/interaction/${qr.uid}/qr?r=${qr.id}`));
    const { claims } = await redeem(h, done.location, verifier);
    expect(claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    expect(claims.amr).to.include.members(['pwd', 'otp', 'mfa', 'mca']);
  });
});
