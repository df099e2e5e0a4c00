import { expect } from 'chai';
import { Browser, decodeEntities } from '../support/browser.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { authorizePath, codeFrom, GOOD_PASSWORD, signIn } from '../support/flows.ts';
import { createAccount } from './fixtures.ts';

const PHONE = '+79123456789';
const BYE = 'https://rp.example.test/bye';
const endSession = `/session/end?${new URLSearchParams({ client_id: 'rp-basic', post_logout_redirect_uri: BYE, state: 'st-1' })}`;

/** What each control of the logout page does: the buttons that submit its form, and links. */
function controls(html: string) {
  const submits = [...html.matchAll(/<button[^>]*form="op\.logoutForm"[^>]*>/g)].map((m) => m[0]);
  const links = [...html.matchAll(/<a [^>]*href="([^"]+)"[^>]*>([^<]*)<\/a>/g)].map((m) => ({
    href: decodeEntities(m[1]!),
    text: m[2]!.trim(),
  }));
  const form = html.match(/<form id="op\.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"/);
  return { submits, links, action: form?.[1], xsrf: form?.[2] };
}

describe('logout page: "Остаться" (stay) is not a logout the relying party cannot tell apart', function () {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await createAccount(h, { phone: PHONE });
  });
  after(() => h.close());

  it('a sign-out request that cannot be read is told as a sign-out request (not "a request to sign in"), with what to do instead', async () => {
    const page = await new Browser(h, { accept: 'text/html' }).get('/session/end?id_token_hint=abc');
    expect(page.status).to.equal(400);
    const text = decodeEntities(page.html);
    expect(text).to.include('Сервис отправил некорректный запрос на выход.');
    expect(text).to.not.include('запрос на вход');
  });

  it("offers staying as a link to vkhod's own page; every button that submits the form logs out", async () => {
    const browser = new Browser(h);
    await signIn(browser, PHONE, GOOD_PASSWORD);
    const page = await browser.get(endSession);
    const { submits, links } = controls(page.html);
    expect(submits).to.have.length(1);
    expect(submits[0]).to.include('name="logout"').and.include('value="yes"');
    const stay = links.find((l) => l.text === 'Остаться');
    expect(stay, 'the stay control').to.deep.equal({ href: '/logout/stayed', text: 'Остаться' });
  });

  it('staying keeps the sign-in and never sends the browser to post_logout_redirect_uri', async () => {
    const browser = new Browser(h);
    await signIn(browser, PHONE, GOOD_PASSWORD);
    await browser.get(endSession);
    const stayed = await browser.get('/logout/stayed');
    expect(stayed.status).to.equal(200);
    expect(stayed.location).to.equal(undefined);
    expect(stayed.html).to.include('Вы остались в учётной записи');
    // Still signed in: the next authorization request gets a code without the sign-in page.
    const again = await browser.get(authorizePath());
    expect(codeFrom(again.location)).to.be.a('string');
  });

  it('"Выйти" signs out and returns to the relying party with its state', async () => {
    const browser = new Browser(h);
    await signIn(browser, PHONE, GOOD_PASSWORD);
    const page = await browser.get(endSession);
    const { action, xsrf } = controls(page.html);
    const out = await browser.post(action!, { xsrf: xsrf!, logout: 'yes' });
    expect(out.location).to.equal(`${BYE}?state=st-1`);
    const again = await browser.get(authorizePath());
    expect(again.html).to.include('name="identifier"');
  });
});
