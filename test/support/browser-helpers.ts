/**
 * A real browser for end-to-end tests: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), Chromium's virtual WebAuthn authenticator, screenshots of every page, a
 * stand-in relying party at https://rp.example.test and the token exchange it would do.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { decodeJwt, type JWTPayload } from 'jose';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { authorizePath, pkce } from './flows.ts';
import { TEST_REDIRECT, TEST_SECRET, type Harness } from './harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = 'test-artifacts/screenshots';

export const chromiumAvailable = (): boolean => existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Chromium for one describe block: launched before it (the block is skipped, saying so, when there
 * is no Chromium), closed after it; every context handed to `track` is closed after each test.
 * Call it first in the block, so its clean-up runs before the block's own.
 */
export function useChromium(): { readonly browser: Browser; track(context: BrowserContext): BrowserContext } {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  before(async function () {
    if (!chromiumAvailable()) {
      console.log(`    [browser tests skipped: no Chromium at ${CHROMIUM}]`);
      this.skip();
    }
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    for (const c of contexts.splice(0)) await c.close();
  });
  return {
    get browser() {
      return browser!;
    },
    track(context) {
      contexts.push(context);
      return context;
    },
  };
}

/** A fresh context (no cookies) in Russian, the language of the citizen's pages. */
export async function newRussianPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1024, height: 800 } });
  const page = await context.newPage();
  return { context, page };
}

/**
 * A virtual platform authenticator (resident keys, user verification, presence simulated) for
 * `page`. It lives as long as the CDP session: keep using the same page.
 */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<{ credentials(): Promise<unknown[]> }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
  };
}

/** Full-page screenshots named `<test>-<nn>-<step>.png`, numbered in the order taken. */
export class Screenshots {
  private n = 0;

  constructor(private readonly test: string) {
    mkdirSync(SCREENSHOTS, { recursive: true });
  }

  async take(page: Page, step: string): Promise<void> {
    this.n += 1;
    await page.screenshot({ path: join(SCREENSHOTS, `${this.test}-${String(this.n).padStart(2, '0')}-${step}.png`), fullPage: true });
  }
}

/**
 * The relying party's redirect_uri host cannot be reached from the test machine: the browser's
 * requests to it are answered here, so the redirect (with the code) is seen in the page's URL.
 */
export async function standInRelyingParty(page: Page): Promise<void> {
  await page.route('https://rp.example.test/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: 'rp ok' }),
  );
}

export interface AuthorizationRequest {
  url: string;
  verifier: string;
  state: string;
  nonce: string;
}

/** An authorization request of the test client rp-basic, with PKCE, state and nonce. */
export function authorizationRequest(h: Harness, params: Record<string, string> = {}): AuthorizationRequest {
  const { verifier, challenge } = pkce();
  const path = authorizePath(params, challenge);
  const query = new URL(path, h.url).searchParams;
  return { url: `${h.url}${path}`, verifier, state: query.get('state')!, nonce: query.get('nonce')! };
}

/** Waits for the browser to arrive at the relying party; returns the code (checks state, no error). */
export async function codeAtRelyingParty(page: Page, request: AuthorizationRequest): Promise<string> {
  await page.waitForURL((u) => u.href.startsWith(TEST_REDIRECT));
  const url = new URL(page.url());
  expect(url.searchParams.get('error'), url.href).to.equal(null);
  expect(url.searchParams.get('state')).to.equal(request.state);
  const code = url.searchParams.get('code');
  expect(code, url.href).to.be.a('string');
  return code!;
}

export interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  scope?: string;
  claims: JWTPayload & { acr?: string; amr?: string[]; nonce?: string };
}

async function tokenRequest(h: Harness, body: Record<string, string>): Promise<Tokens> {
  const res = await fetch(`${h.url}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent('rp-basic')}:${encodeURIComponent(TEST_SECRET)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(body),
  });
  const json = (await res.json()) as Omit<Tokens, 'claims'> & { error?: string; error_description?: string };
  expect(res.status, JSON.stringify(json)).to.equal(200);
  expect(json.id_token, 'an ID token').to.be.a('string');
  return { ...json, claims: decodeJwt(json.id_token) };
}

/** The relying party's side: code + PKCE verifier → tokens (client_secret_basic); checks the nonce. */
export async function exchangeCode(h: Harness, code: string, request: AuthorizationRequest): Promise<Tokens> {
  const tokens = await tokenRequest(h, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: TEST_REDIRECT,
    code_verifier: request.verifier,
  });
  expect(tokens.claims.nonce).to.equal(request.nonce);
  expect(tokens.claims.aud).to.equal('rp-basic');
  expect(tokens.claims.iss).to.equal(h.url);
  return tokens;
}

export function refresh(h: Harness, refreshToken: string): Promise<Tokens> {
  return tokenRequest(h, { grant_type: 'refresh_token', refresh_token: refreshToken });
}
