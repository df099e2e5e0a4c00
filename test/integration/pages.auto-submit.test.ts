/**
 * node-oidc-provider's self-posting page (the form_post response mode, the device code link a QR
 * code holds, a sign-out without a session) was English and unstyled without JavaScript ("Your
 * browser does not support JavaScript… Continue") and, for the device link, cacheable. It is drawn
 * again with vkhod's views: the same form, in Russian, with a button, and `no-store`.
 */
import { expect } from 'chai';
import { Browser, decodeEntities, formAction, type Page } from '../support/browser.ts';
import { authorizePath, GOOD_PASSWORD, pkce } from '../support/flows.ts';
import { TEST_REDIRECT, type Harness } from '../support/harness.ts';
import { errorsOn, harnessWithCitizen } from './fixtures.ts';
import { providerAutoSubmitForm } from '../../src/oidc/auto-submit.ts';

const PHONE = '+79123450077';

/** The hidden fields of the page's form, by name. */
const hiddenFields = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, decodeEntities(m[2]!)]),
  );

function expectVkhodPage(page: Page & { headers?: unknown }, action: string): void {
  expect(page.html).to.not.include('Your browser does not support JavaScript');
  expect(page.html).to.include('<html lang="ru"');
  expect(page.html).to.include('Продолжить');
  expect(formAction(page.html, action)).to.include(action);
  expect(page.html).to.match(/<script src="\/static\/auto-submit\.js" nonce="[^"]+"><\/script>/);
  expect(page.html, 'no language switch: it would open the used address again').to.not.include('href="/lang/');
}

describe("the provider's self-posting page is vkhod's, in Russian, and works without JavaScript", function () {
  const harness = harnessWithCitizen(PHONE);
  const h = (): Harness => harness();

  it('reads the form of the provider page (action and fields, unescaped) and nothing else', () => {
    const html = `<!DOCTYPE html>\n<html>\n<head>\n  <title>Submitting Callback</title></head><body>
  <form method="post" action="https://rp.example/cb?a=1&amp;b=2">
    <input type="hidden" name="code" value="x&lt;y&quot;z&#39;"/>
<input type="hidden" name="state" value="s"/>
  </form></body></html>`;
    expect(providerAutoSubmitForm(html)).to.deep.equal({
      action: 'https://rp.example/cb?a=1&b=2',
      fields: [
        { name: 'code', value: `x<y"z'` },
        { name: 'state', value: 's' },
      ],
    });
    expect(providerAutoSubmitForm('<html><title>Other</title><form method="post" action="/x"></form></html>')).to.equal(undefined);
    expect(providerAutoSubmitForm({ title: 'Submitting Callback' })).to.equal(undefined);
    // A field in a markup it does not know: the provider's page is left as it is, never a form without the code.
    expect(
      providerAutoSubmitForm(html.replace('<input type="hidden" name="state" value="s"/>', '<input name="state" type="hidden" value="s">')),
    ).to.equal(undefined);
  });

  it('response_mode=form_post: the code goes to the relying party in a form that posts itself, or by its button', async () => {
    const browser = new Browser(h());
    const login = await browser.get(authorizePath({ response_mode: 'form_post', state: 'S-77' }, pkce().challenge));
    let page = await browser.submit(login, '/login', { identifier: PHONE, password: GOOD_PASSWORD });
    if (page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
    expect(page.status).to.equal(200);
    expectVkhodPage(page, TEST_REDIRECT);
    const fields = hiddenFields(page.html);
    expect(fields.code).to.be.a('string').and.have.length.greaterThan(10);
    expect(fields.state).to.equal('S-77');
    expect(fields.iss).to.equal(h().url);
  });

  it('the device code link (what the QR code holds): the code entry posts itself; by the button it reaches the code check', async () => {
    const browser = new Browser(h());
    const res = await browser.agent.get('/device?user_code=123-456-789').set('accept-language', 'ru');
    expect(res.status).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    const page = { status: res.status, url: '/device', html: res.text };
    expectVkhodPage(page, '/device');
    const fields = hiddenFields(page.html);
    expect(fields.user_code).to.equal('123-456-789');
    expect(fields.xsrf).to.be.a('string');
    const checked = await browser.post(formAction(page.html, '/device'), fields);
    expect(errorsOn(checked.html)).to.deep.equal(['Такого кода нет. Проверьте цифры на экране устройства.']);
  });

  it('signing out without a session: the confirmation posts itself and returns to the relying party', async () => {
    const browser = new Browser(h());
    const page = await browser.get(
      `/session/end?client_id=rp-basic&post_logout_redirect_uri=${encodeURIComponent('https://rp.example.test/bye')}&state=L1`,
    );
    expect(page.status).to.equal(200);
    const action = formAction(page.html, '/session/end');
    expectVkhodPage(page, action);
    const back = await browser.post(action, hiddenFields(page.html));
    expect(back.location).to.equal('https://rp.example.test/bye?state=L1');
  });
});
