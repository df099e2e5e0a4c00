/**
 * Attack: guess the 6-digit postal code by asking for letter after letter (each a fresh set of
 * tries). Per account: at most 3 letters per 30 days and 10 wrong codes over all letters; then
 * the postal path is closed and the page sends the citizen to a service centre. A used letter
 * leaves the print queue.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Browser, csrfOf, type Page } from '../support/browser.ts';
import { openCabinet } from '../support/flows.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { makeStandard } from '../support/identity.ts';
import { addOperator } from './admin-fixtures.ts';
import { createAccount, errorsOn, expireChallenge, resetStore } from './fixtures.ts';

const PHONE = '+79123456789';
const RU = JSON.parse(readFileSync(new URL('../../views/locales/ru.json', import.meta.url), 'utf8'));

describe('levels: postal codes cannot be brute-forced', function () {
  let h: Harness;
  let accountId: string;
  let browser: Browser;

  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(async () => {
    resetStore(h);
    accountId = (await createAccount(h, { phone: PHONE })).id;
    browser = new Browser(h);
    await makeStandard(h, accountId);
  });

  const account = async () => (await h.services.accounts.findActive(accountId))!;
  const open = async () => openCabinet(browser, '/account/identity', PHONE);
  const requestCode = async () => browser.post('/account/identity/post', { _csrf: csrfOf((await open()).html) });
  const typeCode = async (code: string) => browser.post('/account/identity/post/code', { _csrf: csrfOf((await open()).html), code });
  /** A code that is not the one in the account's open letter. */
  const wrongCode = async () => {
    const letter = (await h.services.store.letters.find((await account()).postalConfirmation!.letterId))!;
    const right = Number(h.services.postal.printable(letter).code);
    return String((right + 1) % 1_000_000).padStart(6, '0');
  };

  it('10 wrong codes over two letters close the postal path: no third letter, not even the right code, and the page says to visit a service centre', async () => {
    const answers: Page[] = [];
    for (let letter = 0; letter < 2; letter += 1) {
      expect((await requestCode()).url).to.equal('/account/identity?notice=post_requested');
      for (let i = 0; i < 5; i += 1) answers.push(await typeCode(await wrongCode()));
    }
    expect(answers.slice(0, 9).every((p) => p.status !== 429)).to.equal(true);
    const last = answers[9]!;
    expect(last.status, 'the 10th wrong code locks').to.equal(429);
    expect(errorsOn(last.html)).to.include(RU.identity.post_errors.locked);

    const third = await requestCode();
    expect(third.status, 'no new letter').to.equal(429);
    expect(errorsOn(third.html)).to.include(RU.identity.post_errors.locked);
    expect((await h.services.store.letters.list('queued')).map((l) => l.accountId)).to.not.include(accountId);

    const page = await open();
    expect(page.html).to.include('id="post-locked"');
    expect(page.html).to.include('центр обслуживания');
    expect(page.html, 'no request button').to.not.include('action="/account/identity/post"');
    expect((await account()).level).to.equal('standard');
  });

  it('the right code after 10 wrong ones over all letters does not confirm', async () => {
    await requestCode();
    for (let i = 0; i < 5; i += 1) await typeCode(await wrongCode());
    await requestCode();
    for (let i = 0; i < 4; i += 1) await typeCode(await wrongCode());
    const letter = (await h.services.store.letters.find((await account()).postalConfirmation!.letterId))!;
    const right = h.services.postal.printable(letter).code!;
    const tenth = await typeCode(await wrongCode());
    expect(tenth.status).to.equal(429);
    const again = await typeCode(right);
    expect(again.status).to.equal(429);
    expect((await account()).level).to.equal('standard');
  });

  it('at most 3 letters per 30 days, even when each earlier one was voided', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push((await requestCode()).status);
      // The letter's code ran out: its request is voided, a new one may be asked for at once…
      expireChallenge(h, (await account()).postalConfirmation!.challengeId);
      await typeCode('000000');
    }
    expect(statuses).to.deep.equal([200, 200, 200]);
    const fourth = await requestCode();
    expect(fourth.status, '…but not a fourth within 30 days').to.equal(429);
    expect(errorsOn(fourth.html)).to.include(RU.identity.post_errors.too_many_letters);
  });

  it('a used letter leaves the print queue; the post room sees it as voided', async () => {
    await requestCode();
    const letterId = (await account()).postalConfirmation!.letterId;
    const letter = (await h.services.store.letters.find(letterId))!;
    const done = await typeCode(h.services.postal.printable(letter).code!);
    expect(done.url).to.equal('/account/identity?notice=confirmed');
    expect((await h.services.store.letters.list('queued')).map((l) => l.id)).to.not.include(letterId);
    expect(await h.services.store.letters.find(letterId)).to.include({ status: 'cancelled', cancelReason: 'used' });
  });

  it('the post room keeps seeing a voided letter, as voided and without its code, instead of it vanishing', async () => {
    const postman = await addOperator(h, 'postman', ['post']);
    await requestCode();
    const letterId = (await account()).postalConfirmation!.letterId;
    const room = new Browser(h);
    const login = await room.get('/operator');
    const queue = await room.submit(login, '/operator/login', { login: postman.login, password: postman.password });
    expect(queue.html).to.include(`id="letter-${letterId}"`);

    // The citizen uses the letter up with wrong codes: its request is voided.
    for (let i = 0; i < 5; i += 1) await typeCode(await wrongCode());
    const after = await room.get('/operator/letters');
    expect(after.html, 'not in the queue').to.not.include(`id="letter-${letterId}"`);
    expect(after.html).to.include(`id="voided-${letterId}"`);
    expect(after.html).to.include('Аннулированные письма — не отправлять');
    expect(after.html).to.include('код исчерпал попытки');
    expect(after.html).to.not.match(/class="letter-code"/);
  });
});
