/** Steps a citizen takes, as reusable test helpers. */
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import { generate, generateSecret } from 'otplib';
import request from 'supertest';
import type { Browser, Page } from './browser.ts';
import { TEST_REDIRECT, TEST_SECRET, type Harness } from './harness.ts';

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
/** Registration's final form, filled in as a citizen would (name, password twice, the consent to processing). */
export const REGISTRATION_PROFILE = {
  family: 'Иванова',
  given: 'Мария',
  middle: '',
  password: GOOD_PASSWORD,
  password_confirm: GOOD_PASSWORD,
  pd_consent: 'on',
};

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
    ...REGISTRATION_PROFILE,
    ...(options.family ? { family: options.family } : {}),
    ...(options.given ? { given: options.given } : {}),
    ...(options.password ? { password: options.password, password_confirm: options.password } : {}),
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

/* Second factors: tokens and what they say, TOTP codes, JSON steps (WebAuthn). */

/** Goes through the consent page when it is shown; returns the page after it. */
export async function passConsent(browser: Browser, page: Page): Promise<Page> {
  return page.html.includes('/consent') && !page.location ? browser.submit(page, '/consent', { decision: 'allow' }) : page;
}

/** Code → tokens at the token endpoint for rp-basic, with the ID token's claims decoded. */
export async function redeem(
  harness: Harness,
  location: string | undefined,
  verifier: string,
  /** `rp-public`: the public client, which names itself in the body (no secret) */
  client: 'rp-basic' | 'rp-public' = 'rp-basic',
): Promise<{ body: Record<string, unknown>; claims: Record<string, unknown> }> {
  const form = { grant_type: 'authorization_code', code: codeFrom(location), redirect_uri: TEST_REDIRECT, code_verifier: verifier };
  const token = request(harness.url).post('/token').type('form');
  const res = await (client === 'rp-public'
    ? token.send({ ...form, client_id: 'rp-public' })
    : token.auth('rp-basic', TEST_SECRET).send(form));
  expect(res.status, res.text).to.equal(200);
  return { body: res.body, claims: decodeJwt(res.body.id_token as string) as Record<string, unknown> };
}

/** The TOTP seed shown on an enrolment page (grouped by 4 for reading). */
export function totpSecretOf(html: string): string {
  const m = html.match(/<code class="secret" id="totp-secret">([^<]+)<\/code>/);
  expect(m, 'the TOTP secret on the page').to.not.equal(null);
  return m![1]!.replace(/\s+/g, '');
}

/**
 * The TOTP code `steps` 30-second steps from now. Waits out the last second of a step first so
 * the server checks the code in the same step the test meant.
 */
export async function totpCode(secret: string, steps = 0): Promise<string> {
  const now = Date.now() / 1000;
  if (30 - (now % 30) < 1) await new Promise((resolve) => setTimeout(resolve, 1000));
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
}

/** A script-style JSON POST (as views/static/webauthn.js does), cookies kept. */
export function postJson(browser: Browser, path: string, body: Record<string, unknown>) {
  return browser.agent.post(path).set({ accept: 'application/json', 'accept-language': 'ru' }).send(body);
}

/** Opens the sign-in page of `authorize` and submits the password; returns what comes next. */
export async function submitPassword(
  browser: Browser,
  identifier: string,
  authorize = authorizePath(),
  password = GOOD_PASSWORD,
): Promise<Page> {
  const login = await browser.get(authorize);
  expect(login.html, 'the sign-in page').to.include('name="identifier"');
  return browser.submit(login, '/login', { identifier, password });
}

/** Gives the account an authenticator app straight through the domain (and turns on sign-in with confirmation when `mfa`). */
export async function addTotp(harness: Harness, accountId: string, options: { mfa?: boolean } = {}): Promise<string> {
  const secret = generateSecret();
  const now = new Date().toISOString();
  await harness.services.accounts.modify(accountId, (a) => ({
    ...a,
    totp: { sealedSecret: harness.services.totp.seal(secret, a.id), createdAt: now, lastTimeStep: 0 },
    ...(options.mfa ? { mfa: { enabled: true, preferred: 'totp' as const } } : {}),
  }));
  return secret;
}

/** Opens a cabinet page, signing in with the password when vkhod asks (the cabinet is a client of vkhod). */
export async function openCabinet(browser: Browser, path: string, identifier: string, password = GOOD_PASSWORD): Promise<Page> {
  const page = await browser.get(path);
  if (!page.html.includes('name="identifier"')) return page;
  return browser.submit(page, '/login', { identifier, password });
}

/**
 * The first step of enrolment inside a sign-in: the code to the account's confirmed contact
 * (`to`, as the gateway saw it), sent and typed in. Returns the page that offers the factors.
 */
export async function proveContact(browser: Browser, harness: Harness, enrol: Page, to: string): Promise<Page> {
  expect(enrol.html, 'the contact step comes first').to.include('/mfa/enrol/contact/send');
  expect(enrol.html, 'no factor offered before it').to.not.include('id="totp-secret"');
  const sent = await browser.submit(enrol, '/mfa/enrol/contact/send', {});
  expect(sent.status, sent.html).to.equal(200);
  const proven = await browser.submit(sent, '/mfa/enrol/contact', { code: harness.gateway.code(to) });
  expect(proven.status, proven.html).to.equal(200);
  expect(proven.html).to.include('id="totp-secret"');
  return proven;
}
