/**
 * The CryptoPro CAdES browser plug-in path of the e-signature page, in Chromium: the page loads
 * the plug-in's API from /static/vendor/cadesplugin_api.js with its CSP nonce; here a stand-in
 * plug-in answers (the store lists the citizen's GOST certificate, SignCades signs the bytes it is
 * given with vkhod's GOST tool), so what is tested is vkhod's page script against the plug-in's
 * async API: certificate list, a detached signature of exactly the challenge, the form submitted,
 * sign-in to the relying party with a confirmed account. Without the plug-in the page is as before.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  authorizationRequest,
  chromiumAvailable,
  codeAtRelyingParty,
  CHROMIUM,
  exchangeCode,
  launchChromium,
  newRussianPage,
  Screenshots,
  standInRelyingParty,
} from '../support/browser-helpers.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { createGostCa, issueGostCitizen, type GostIssued } from '../../scripts/esign/gost-ca.ts';
import { signCms } from '../../scripts/esign/sign.ts';

const ELENA = { family: 'Морозова', given: 'Елена Игоревна', snils: '19876543247', inn: '500345678979' };

/** A stand-in for CryptoPro's cadesplugin_api.js: the async API, one certificate in the "My" store. */
const STAND_IN_PLUGIN = `
(function () {
  var cert = {
    SubjectName: Promise.resolve('CN=Морозова Елена Игоревна, SN=Морозова, G=Елена Игоревна, C=RU'),
    ValidToDate: Promise.resolve(new Date(Date.now() + 86400000 * 300).toISOString()),
    HasPrivateKey: function () { return Promise.resolve(true); },
  };
  var expired = {
    SubjectName: Promise.resolve('CN=Старый сертификат'),
    ValidToDate: Promise.resolve('2020-01-01T00:00:00Z'),
    HasPrivateKey: function () { return Promise.resolve(true); },
  };
  var plugin = Promise.resolve();
  plugin.CreateObjectAsync = function (name) {
    if (name === 'CAdESCOM.Store') return Promise.resolve({
      Open: function () { return Promise.resolve(); },
      Close: function () { return Promise.resolve(); },
      Certificates: Promise.resolve({ Count: Promise.resolve(2), Item: function (i) { return Promise.resolve(i === 1 ? expired : cert); } }),
    });
    if (name === 'CAdESCOM.CPSigner') {
      var signer = {};
      signer.propset_Certificate = function (c) { signer.certificate = c; return Promise.resolve(); };
      signer.propset_Options = function (o) { signer.options = o; return Promise.resolve(); };
      return Promise.resolve(signer);
    }
    if (name === 'CAdESCOM.CadesSignedData') {
      var data = {};
      data.propset_ContentEncoding = function (e) { data.encoding = e; return Promise.resolve(); };
      data.propset_Content = function (c) { data.content = c; return Promise.resolve(); };
      data.SignCades = function (signer, type, detached) {
        if (signer.certificate !== cert || data.encoding !== 1 || type !== 1 || detached !== true) return Promise.reject(new Error('unexpected use of the plug-in'));
        return window.vkhodStandInSign(data.content);
      };
      return Promise.resolve(data);
    }
    return Promise.reject(new Error('unknown object ' + name));
  };
  window.cadesplugin = plugin;
})();
`;

describe('in a real browser: signing with the CryptoPro plug-in (a stand-in)', function () {
  this.timeout(60000);
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let dir: string;
  let citizen: GostIssued;

  before(async function () {
    if (!chromiumAvailable()) {
      console.log(`    [browser tests skipped: no Chromium at ${CHROMIUM}]`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'vkhod-cades-'));
    const ca = createGostCa({ paramSet: 'tc26-256-A' });
    citizen = issueGostCitizen(ca, ELENA, { paramSet: 'tc26-256-A' });
    writeFileSync(join(dir, 'ca.pem'), ca.pem);
    h = await startHarness({
      env: { VKHOD_ESIGN_TRUSTED_CAS_FILE: dir, VKHOD_ESIGN_CRL_FILE: dir, VKHOD_ESIGN_CADES_API: '/static/vendor/cadesplugin_api.js' },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function esignPage(
    withPlugin: boolean,
  ): Promise<{ page: Page; request: ReturnType<typeof authorizationRequest>; signed: string[] }> {
    await context?.close();
    const opened = await newRussianPage(browser);
    context = opened.context;
    const { page } = opened;
    const signed: string[] = [];
    await standInRelyingParty(page);
    if (withPlugin) {
      await page.route('**/static/vendor/cadesplugin_api.js', (route) =>
        route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: STAND_IN_PLUGIN }),
      );
      await page.exposeFunction('vkhodStandInSign', async (content: string) => {
        signed.push(Buffer.from(content, 'base64').toString('utf8'));
        const sig = await signCms({ content: Buffer.from(content, 'base64'), certificatePem: citizen.pem, privateKeyPem: citizen.keyPem });
        return Buffer.from(sig).toString('base64');
      });
    }
    const request = authorizationRequest(h);
    await page.goto(request.url);
    await page.click('#esign-link');
    await page.waitForSelector('#esign-challenge');
    return { page, request, signed };
  }

  it("lists the certificate with a private key (not the expired one), signs exactly the challenge and signs in, under the page's CSP", async () => {
    const shots = new Screenshots('esign-cades');
    const violations: string[] = [];
    const { page, request, signed } = await esignPage(true);
    page.on('console', (m) => m.type() === 'error' && violations.push(m.text()));
    await page.waitForSelector('#cades:not([hidden])');
    await shots.take(page, 'plugin');
    const options = await page.locator('#cades-certificate option').allTextContents();
    expect(options).to.have.length(1);
    expect(options[0]).to.match(/^Морозова Елена Игоревна — действует до /);
    const challenge = (await page.textContent('#esign-challenge'))!;
    await page.click('#cades-sign');
    const consent = page.locator('form[action$="/consent"]');
    await consent
      .or(page.locator('body', { hasText: 'rp ok' }))
      .first()
      .waitFor();
    if (page.url().startsWith(h.url)) await page.click('button[name="decision"][value="allow"]');
    const code = await codeAtRelyingParty(page, request);
    const tokens = await exchangeCode(h, code, request);
    expect(signed).to.deep.equal([challenge]);
    expect(tokens.claims.amr).to.deep.equal(['sc', 'mfa']);
    // A new account from a certificate: name and SNILS verified, not yet the passport (DESIGN §2).
    expect(tokens.claims.acr).to.equal('urn:vkhod:loa:simplified-mfa');
    expect(violations.filter((v) => /Content Security Policy/i.test(v))).to.deep.equal([]);
  });

  it('without the plug-in the page stays as it was: no plug-in section, the file and paste fields', async () => {
    const { page } = await esignPage(false);
    await page.waitForLoadState('networkidle');
    expect(await page.locator('#cades').isHidden()).to.equal(true);
    expect(await page.locator('#signature_file').isVisible()).to.equal(true);
    expect(await page.locator('#signature').isVisible()).to.equal(true);
  });
});
