/** One-time codes: wrong, exhausted, resent, expired, replayed, over the send limit. */
import { expect } from 'chai';
import { Browser, csrfOf, formAction, type Page } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { countRows, createAccount, expectNoLeak, expireChallenge, firstError, flowOf, resetStore } from './fixtures.ts';
import { NEW_PASSWORD, NEW_PHONE, PHONE, RecordingBrowser } from './bad-input-fixtures.ts';

describe('one-time codes on the hosted pages', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    RecordingBrowser.pages = [];
    resetStore(h);
    await createAccount(h, { phone: PHONE });
  });
  afterEach(() => {
    // No page of any test here showed a stack trace or a raw exception.
    for (const page of RecordingBrowser.pages) expectNoLeak(page.html);
  });

  describe('one-time codes', () => {
    async function codePage(browser: Browser, contact = NEW_PHONE): Promise<Page> {
      const page = await browser.submit(await browser.get('/register'), '/register', { contact });
      expect(page.status).to.equal(200);
      return page;
    }
    const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

    it('a wrong code gets 400 and the page to try again', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const res = await browser.submit(page, '/register/', { code: wrongFor(h.gateway.code(NEW_PHONE)) });
      expect(res.status).to.equal(400);
      expect(firstError(res.html)).to.equal('Неверный код. Проверьте цифры и попробуйте ещё раз.');
      expect(res.html).to.include('name="code"');
      const notDigits = await browser.submit(page, '/register/', { code: 'abcdef' });
      expect(notDigits.status).to.equal(400);
    });

    it('after 3 wrong codes the code is dead, even the right one; a new code works', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const right = h.gateway.code(NEW_PHONE);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await browser.submit(page, '/register/', { code: wrongFor(right) })).status);
      expect(statuses).to.deep.equal([400, 400, 410]);
      const dead = await browser.submit(page, '/register/', { code: right });
      expect(dead.status).to.equal(410);
      expect(firstError(dead.html)).to.equal('Код введён неверно слишком много раз. Запросите новый код.');
      expect((await flowOf(h, page)).verified).to.equal(false);

      const resent = await browser.submit(page, '/resend', {});
      expect(resent.html).to.include('Новый код отправлен');
      const fresh = h.gateway.code(NEW_PHONE);
      const profile = await browser.submit(resent, '/register/', { code: fresh });
      expect(profile.html).to.include('name="family"');
    });

    it('after a resend the previous code no longer works, as the page says', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const first = h.gateway.code(NEW_PHONE);
      const resent = await browser.submit(page, '/resend', {});
      expect(resent.html).to.include('Новый код отправлен. Прежний код больше не действует.');
      const second = h.gateway.code(NEW_PHONE);
      if (first !== second) {
        const old = await browser.submit(resent, '/register/', { code: first });
        expect(old.status).to.equal(400);
        expect(firstError(old.html)).to.equal('Неверный код. Проверьте цифры и попробуйте ещё раз.');
      }
      expect((await browser.submit(resent, '/register/', { code: second })).html).to.include('name="family"');
    });

    it('an expired code gets 410 with a message to request a new one', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      expireChallenge(h, (await flowOf(h, page)).challengeId);
      const res = await browser.submit(page, '/register/', { code: h.gateway.code(NEW_PHONE) });
      expect(res.status).to.equal(410);
      expect(firstError(res.html)).to.equal('Срок действия кода истёк. Запросите новый код.');
      expect((await flowOf(h, page)).verified).to.equal(false);
    });

    it('a code cannot be used twice, and a finished flow cannot be replayed', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      const code = h.gateway.code(NEW_PHONE);
      const { challengeId } = await flowOf(h, page);
      const profile = await browser.submit(page, '/register/', { code });
      const done = await browser.submit(profile, '/register/', {
        family: 'Петров',
        given: 'Пётр',
        middle: '',
        password: NEW_PASSWORD,
        password_confirm: NEW_PASSWORD,
        pd_consent: 'on',
      });
      expect(done.html, 'signed in, in the cabinet').to.include('id="account-name"');
      expect(countRows(h, 'accounts')).to.equal(2);

      // The challenge itself answers "used" to the same code.
      expect(await h.services.codes.verify({ challengeId, purpose: 'register', recipient: NEW_PHONE, code, ip: '127.0.0.1' })).to.equal(
        'used',
      );
      // Replaying the code step and the final step of the finished flow is refused.
      const replayCode = await browser.post(formAction(page.html, '/register/'), { _csrf: csrfOf(page.html), code }, false);
      expect(replayCode.status).to.equal(404);
      expect(firstError(replayCode.html)).to.include('Страница регистрации устарела');
      const replayFinal = await browser.post(
        formAction(profile.html, '/register/'),
        {
          _csrf: csrfOf(profile.html),
          family: 'Сидоров',
          given: 'Иван',
          password: NEW_PASSWORD,
          password_confirm: NEW_PASSWORD,
          pd_consent: 'on',
        },
        false,
      );
      // The final step sent again is told it was done (409, as a double click is), and does nothing.
      expect(replayFinal.status).to.equal(409);
      expect(replayFinal.html).to.include('Учётная запись по этой регистрации уже создана');
      expect(countRows(h, 'accounts'), 'no second account').to.equal(2);
    });

    it('a finished recovery cannot be replayed to set another password', async () => {
      const browser = new RecordingBrowser(h);
      const codePageR = await browser.submit(await browser.get('/recover'), '/recover', { contact: PHONE });
      const passwordPage = await browser.submit(codePageR, '/recover/', { code: h.gateway.code(PHONE) });
      const done = await browser.submit(passwordPage, '/recover/', { password: NEW_PASSWORD, password_confirm: NEW_PASSWORD });
      expect(done.html).to.include('Пароль изменён');
      const hash = (await h.services.accounts.findByKey({ kind: 'phone', value: PHONE }))!.passwordHash;
      const replay = await browser.post(
        formAction(passwordPage.html, '/recover/'),
        { _csrf: csrfOf(passwordPage.html), password: 'Другой-Пароль-99!', password_confirm: 'Другой-Пароль-99!' },
        false,
      );
      expect(replay.status).to.equal(409);
      expect(replay.html).to.include('Пароль по этому восстановлению уже изменён');
      expect((await h.services.accounts.findByKey({ kind: 'phone', value: PHONE }))!.passwordHash).to.equal(hash);
    });

    it('a 4th code to the same recipient within 10 minutes gets 429 and is not sent', async () => {
      const browser = new RecordingBrowser(h);
      const page = await codePage(browser);
      await browser.submit(page, '/resend', {});
      // A third send through another flow (recovery counts too: the limit is per recipient).
      await codePage(new RecordingBrowser(h));
      expect(h.gateway.sent.filter((m) => m.to === NEW_PHONE)).to.have.length(3);

      const fourth = await browser.submit(page, '/resend', {});
      expect(fourth.status).to.equal(429);
      expect(firstError(fourth.html)).to.equal('Коды отправлялись слишком часто. Следующий можно запросить через 10 мин.');
      const fresh = new RecordingBrowser(h);
      const viaContact = await fresh.submit(await fresh.get('/register'), '/register', { contact: '8 912 345 67 80' });
      expect(viaContact.status).to.equal(429);
      expect(firstError(viaContact.html)).to.include('Коды отправлялись слишком часто');
      expect(h.gateway.sent.filter((m) => m.to === NEW_PHONE)).to.have.length(3);
      // Another recipient is not affected.
      const other = new RecordingBrowser(h);
      expect((await other.submit(await other.get('/register'), '/register', { contact: '+79123456781' })).status).to.equal(200);
    });
  });
});
