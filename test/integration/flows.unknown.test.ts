/** Unknown or malformed flow ids, interactions and pages: 4xx pages with a way to start again. */
import { expect } from 'chai';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, GOOD_PASSWORD } from '../support/flows.ts';
import { createAccount, expectNoLeak, firstError, flowOf, resetStore } from './fixtures.ts';
import { NEW_PHONE, PHONE, RecordingBrowser } from './bad-input-fixtures.ts';

describe('unknown flows, interactions and pages', function () {
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

  describe('unknown flows and interactions', () => {
    it('an unknown or malformed flow id gets 404 with a way to start again', async () => {
      const browser = new RecordingBrowser(h);
      for (const path of ['/register/AAAAAAAAAAAAAAAAAAAAAA', '/register/not-a-flow', '/register/..%2F..%2Fetc']) {
        const res = await browser.get(path);
        expect(res.status, path).to.equal(404);
        expect(firstError(res.html)).to.equal('Страница регистрации устарела. Начните заново: /register');
      }
      const recover = await browser.get('/recover/AAAAAAAAAAAAAAAAAAAAAA');
      expect(recover.status).to.equal(404);
      expect(firstError(recover.html)).to.include('Страница восстановления устарела');
      const post = await browser.post('/register/AAAAAAAAAAAAAAAAAAAAAA', { code: '123456' });
      expect(post.status).to.equal(404);
    });

    it('a registration flow cannot be driven through the recovery pages', async () => {
      const browser = new RecordingBrowser(h);
      const page = await browser.submit(await browser.get('/register'), '/register', { contact: NEW_PHONE });
      const { id } = await flowOf(h, page);
      const res = await browser.get(`/recover/${id}`);
      expect(res.status).to.equal(404);
    });

    it('an unknown interaction gets a 400 page that says to start again', async () => {
      const expired = 'Время на вход истекло или вход начат в другом окне. Вернитесь в сервис и начните вход заново.';
      const stranger = new RecordingBrowser(h);
      const res = await stranger.get('/interaction/unknown-uid');
      expect(res.status).to.equal(400);
      expect(firstError(res.html)).to.equal(expired);
      // A browser inside a real interaction, pointing at another uid.
      const browser = new RecordingBrowser(h);
      await browser.get(authorizePath());
      for (const path of ['/interaction/another-uid', '/interaction/another-uid/register']) {
        const other = await browser.get(path);
        expect(other.status, path).to.equal(400);
        expect(firstError(other.html)).to.equal(expired);
      }
      const post = await browser.post('/interaction/another-uid/login', { identifier: PHONE, password: GOOD_PASSWORD });
      expect(post.status).to.equal(400);
    });

    it('an unknown page gets a 404 page', async () => {
      const res = await new RecordingBrowser(h).get('/no/such/page');
      expect(res.status).to.equal(404);
      expect(firstError(res.html)).to.equal('Страница не найдена. Проверьте адрес.');
    });
  });
});
