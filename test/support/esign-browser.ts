/** The citizen's side of an e-signature sign-in: open the page, sign its challenge, send the signature. */
import { expect } from 'chai';
import type { Browser, Page } from './browser.ts';
import { csrfOf } from './browser.ts';
import { challengeOn, signText } from './federation.ts';

/** Sends a signature the way the page's form does: a .sig file (multipart) or Base64 pasted into the textarea. */
export async function sendSignature(
  browser: Browser,
  page: Page,
  signature: Buffer | string,
  how: 'file' | 'paste' = 'file',
  handle = challengeOn(page).handle,
): Promise<Page> {
  const action = page.html.match(/<form method="post" action="([^"]+)" enctype="multipart\/form-data"/)?.[1];
  expect(action, 'the signature form').to.be.a('string');
  let res;
  if (how === 'file') {
    res = await browser.agent
      .post(action!)
      .set('accept-language', 'ru')
      .field('_csrf', csrfOf(page.html))
      .field('handle', handle)
      .attach('signature_file', Buffer.isBuffer(signature) ? signature : Buffer.from(signature), 'challenge.sig');
  } else {
    res = await browser.agent
      .post(action!)
      .type('form')
      .set('accept-language', 'ru')
      .send({ _csrf: csrfOf(page.html), handle, signature: Buffer.isBuffer(signature) ? signature.toString('base64') : signature });
  }
  if (res.status >= 300 && res.status < 400 && res.headers.location) {
    const next = new URL(res.headers.location, browser.harness.url);
    if (next.origin !== browser.harness.url) return { status: res.status, url: action!, html: res.text, location: next.href };
    return browser.get(next.pathname + next.search);
  }
  return { status: res.status, url: action!, html: res.text };
}

/** Signs the challenge on `page` with `signer` and sends it. */
export async function signAndSend(
  browser: Browser,
  page: Page,
  signer: { certificatePem: string; privateKeyPem: string },
  how: 'file' | 'paste' = 'file',
): Promise<Page> {
  return sendSignature(browser, page, await signText(challengeOn(page).text, signer), how);
}
