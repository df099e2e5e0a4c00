/** Steps a citizen takes, as reusable test helpers. */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Browser, Page } from './browser.ts';
import { TEST_REDIRECT, type Harness } from './harness.ts';

export const GOOD_PASSWORD = 'Зелёный-Кит-42!';

export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization request path for the test client, with PKCE. */
export function authorizePath(params: Record<string, string> = {}, challenge = pkce().challenge): string {
  const q = new URLSearchParams({
    client_id: 'rp-basic',
    response_type: 'code',
    redirect_uri: TEST_REDIRECT,
    scope: 'openid profile phone email',
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...params,
  });
  return `/auth?${q}`;
}

/**
 * Registers through the hosted pages, starting at `start` (a /register page, or an interaction's
 * /register). Returns the page after the last step.
 */
export async function register(
  browser: Browser,
  harness: Harness,
  options: { start: string; contact: string; normalized: string; family?: string; given?: string; password?: string },
): Promise<Page> {
  const contactPage = await browser.get(options.start);
  expect(contactPage.status).to.equal(200);
  const codePage = await browser.submit(contactPage, 'register', { contact: options.contact });
  expect(codePage.status, codePage.html).to.equal(200);
  const profilePage = await browser.submit(codePage, 'register/', { code: harness.gateway.code(options.normalized) });
  expect(profilePage.html).to.include('name="family"');
  return browser.submit(profilePage, 'register/', {
    family: options.family ?? 'Иванова',
    given: options.given ?? 'Мария',
    middle: '',
    password: options.password ?? GOOD_PASSWORD,
    password_confirm: options.password ?? GOOD_PASSWORD,
  });
}

/** Registers a citizen without an interaction; returns after the "account created" page. */
export async function registerStandalone(browser: Browser, harness: Harness, phone = '+79123456789'): Promise<void> {
  const done = await register(browser, harness, { start: '/register', contact: phone, normalized: phone });
  expect(done.status).to.equal(200);
}

/** From an authorization request to the relying party's redirect, through sign-in and consent. */
export async function signIn(browser: Browser, identifier: string, password: string, authorize = authorizePath()): Promise<Page> {
  const login = await browser.get(authorize);
  expect(login.html, 'the sign-in page').to.include('name="identifier"');
  let page = await browser.submit(login, '/login', { identifier, password });
  if (page.html.includes('/consent')) page = await browser.submit(page, '/consent', { decision: 'allow' });
  return page;
}

export function codeFrom(location: string | undefined): string {
  expect(location, 'a redirect to the relying party').to.be.a('string');
  const url = new URL(location!);
  expect(url.origin + url.pathname).to.equal(TEST_REDIRECT);
  const code = url.searchParams.get('code');
  expect(code, `code in ${location}`).to.be.a('string');
  return code!;
}
