/**
 * Attack: guess a one-time code (SMS or e-mail: registration, recovery, contact change, deletion)
 * with many parallel requests, so that each reads "no wrong tries yet" before any is counted. The
 * try is taken from the code's attempts and from the client IP's budget before the code is
 * compared (DESIGN §6), so a burst gets no more comparisons than the same guesses one by one.
 */
import { expect } from 'chai';
import { Browser } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { resetStore } from './fixtures.ts';

describe('one-time codes: parallel guesses are counted before they are compared', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());
  beforeEach(() => resetStore(h));

  const wrongTo = (right: string) => (i: number) => String((Number(right) + 1 + i * 7919) % 1_000_000).padStart(6, '0');

  it('30 parallel verifications of one code: exactly its 3 attempts are compared, the right code after them is refused', async () => {
    const { challengeId, code } = await h.services.codes.issue({ purpose: 'register', recipient: '+79120000001', ttlSeconds: 300 });
    const wrong = wrongTo(code);
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        h.services.codes.verify({ challengeId, purpose: 'register', recipient: '+79120000001', code: wrong(i), ip: '198.51.100.7' }),
      ),
    );
    expect(
      outcomes.filter((o) => o === 'wrong'),
      'compared and still open',
    ).to.have.length(2);
    expect(
      outcomes.every((o) => o === 'wrong' || o === 'exhausted'),
      outcomes.join(),
    ).to.equal(true);
    expect((await h.services.store.challenges.find(challengeId))?.attempts, 'attempts taken').to.equal(3);
    expect(
      await h.services.codes.verify({ challengeId, purpose: 'register', recipient: '+79120000001', code, ip: '198.51.100.7' }),
    ).to.equal('exhausted');
  });

  it('the right code among 29 parallel wrong ones is compared only if it got one of the 3 attempts', async () => {
    for (let round = 0; round < 5; round += 1) {
      const recipient = `+7912000001${round}`;
      const { challengeId, code } = await h.services.codes.issue({ purpose: 'recover', recipient, ttlSeconds: 300 });
      const wrong = wrongTo(code);
      const guesses = [...Array.from({ length: 29 }, (_, i) => wrong(i)), code];
      const outcomes = await Promise.all(
        guesses.map((guess) =>
          h.services.codes.verify({ challengeId, purpose: 'recover', recipient, code: guess, ip: `198.51.100.${20 + round}` }),
        ),
      );
      expect((await h.services.store.challenges.find(challengeId))?.attempts, 'attempts taken').to.equal(3);
      // Three compared at most: two "wrong" and a third that is the right code or the last wrong one.
      expect(outcomes.filter((o) => o === 'wrong').length).to.be.at.most(2);
      expect(outcomes.filter((o) => o === 'ok').length).to.be.at.most(1);
    }
  });

  it('through the registration page: a burst of 40 wrong codes gets two "wrong" and 38 "no tries left", and spends 3 of the address budget', async () => {
    const browser = new Browser(h);
    const contactPage = await browser.get('/register');
    const codePage = await browser.submit(contactPage, 'register', { contact: '+79120000002' });
    expect(codePage.status, codePage.html).to.equal(200);
    const wrong = wrongTo(h.gateway.code('+79120000002'));
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => browser.submit(codePage, 'register/', { code: wrong(i) })));
    expect(
      answers.filter((page) => page.status === 400),
      '"wrong code" answers',
    ).to.have.length(2);
    expect(
      answers.filter((page) => page.status === 410),
      '"no tries left" answers',
    ).to.have.length(38);

    // The same address may still confirm another number (30 wrong codes per 15 minutes): the
    // burst counted as the 3 guesses it could make. Counted as 40, it would be refused here.
    const other = new Browser(h);
    const nextCodePage = await other.submit(await other.get('/register'), 'register', { contact: '+79120000003' });
    const profile = await other.submit(nextCodePage, 'register/', { code: h.gateway.code('+79120000003') });
    expect(profile.html, 'the right code on a new number').to.include('name="family"');
  });
});
