/**
 * Banks and certificates for the federation tests: the development bank started in-process on a
 * random port (a real node-oidc-provider), vkhod configured with it, the citizen's leg at the bank
 * played by a second cookie-keeping agent, and a test CA written to a temp folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { DEV_BANK } from '../../config/federation.ts';
import { startDevBank, type DevBank } from '../../scripts/dev-bank.ts';
import { signCms } from '../../scripts/esign/sign.ts';
import { createCa, issueCitizen, privateKeyPem, type CitizenOptions, type Issued, type Person } from '../../scripts/esign/test-ca.ts';
import type { Browser, Page } from './browser.ts';
import { formAction } from './browser.ts';
import { startHarness, type Harness, type HarnessOptions } from './harness.ts';

/** A port nothing listens on (a bank that is down). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface FederationSetup {
  h: Harness;
  bank: DevBank;
  close(): Promise<void>;
}

/**
 * vkhod with three banks: `demobank` (accredited, client secret), `otherbank` (the same
 * development bank through another client: not accredited, private_key_jwt) and `downbank`
 * (nothing listens there).
 */
export async function startFederation(options: HarnessOptions & { extraBanks?: object[] } = {}): Promise<FederationSetup> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const bank = await startDevBank({
    port: 0,
    clients: [
      {
        client_id: 'vkhod-other',
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/federation/callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'other-1', alg: 'ES256', use: 'sig' }] },
      },
    ],
  });
  const banks = [
    {
      id: 'demobank',
      name: 'Демо-банк',
      name_en: 'Demo bank',
      issuer: bank.url,
      client_id: DEV_BANK.client_id,
      client_secret: DEV_BANK.client_secret,
      scope: DEV_BANK.scope,
      accredited: true,
    },
    {
      id: 'otherbank',
      name: 'Другой банк',
      issuer: bank.url,
      client_id: 'vkhod-other',
      private_key_jwk: { ...(await exportJWK(privateKey)), kid: 'other-1', alg: 'ES256' },
      scope: 'openid profile phone email snils passport',
      accredited: false,
    },
    {
      id: 'downbank',
      name: 'Спящий банк',
      issuer: `http://127.0.0.1:${await closedPort()}`,
      client_id: 'vkhod',
      client_secret: DEV_BANK.client_secret,
      accredited: true,
      timeout_seconds: 2,
    },
    ...(options.extraBanks ?? []),
  ];
  const h = await startHarness({ ...options, env: { VKHOD_BANKS: JSON.stringify(banks), ...options.env } });
  return {
    h,
    bank,
    async close() {
      await h.close();
      await bank.close();
    },
  };
}

/** GETs and follows redirects while they stay at `origin`; returns the last response and where it points outside. */
async function follow(
  agent: ReturnType<typeof request.agent>,
  origin: string,
  res: request.Response,
): Promise<{ res: request.Response; outside?: string }> {
  for (let i = 0; i < 10 && res.status >= 300 && res.status < 400; i += 1) {
    const next = new URL(res.headers.location!, origin);
    if (next.origin !== origin) return { res, outside: next.href };
    res = await agent.get(next.pathname + next.search);
  }
  return { res };
}

/**
 * The citizen at the bank: opens the authorization URL, picks a customer (or refuses) and returns
 * the URL the bank sends the browser back to. `tamper` edits the authorization request first.
 */
export async function atBank(
  bankUrl: string,
  authorizationUrl: string,
  choice: { customer?: string; refuse?: boolean; tamper?: (url: URL) => void },
): Promise<string> {
  const agent = request.agent(bankUrl);
  const url = new URL(authorizationUrl);
  expect(url.origin, 'vkhod sends the browser to the bank').to.equal(bankUrl);
  choice.tamper?.(url);
  const shown = await follow(agent, bankUrl, await agent.get(url.pathname + url.search));
  expect(shown.res.status, shown.res.text.slice(0, 300)).to.equal(200);
  const action = formAction(shown.res.text, choice.refuse ? '/abort' : '/login');
  const sent = await agent
    .post(action)
    .type('form')
    .send(choice.refuse ? {} : { customer: choice.customer ?? 'cust-1001' });
  const back = await follow(agent, bankUrl, sent);
  expect(back.outside, `the bank sends the browser back (got ${back.res.status}: ${back.res.text.slice(0, 200)})`).to.be.a('string');
  return back.outside!;
}

/** Presses the bank's button on a vkhod sign-in page; returns the bank's authorization URL. */
export async function pressBank(browser: Browser, login: Page, bankId: string): Promise<Page> {
  expect(login.html, 'the sign-in page offers the bank').to.include(`/bank/${bankId}`);
  return browser.submit(login, `/bank/${bankId}`, {});
}

/** From vkhod's sign-in page through the bank and back: the page vkhod shows after the return. */
export async function throughBank(
  browser: Browser,
  bank: DevBank,
  login: Page,
  options: { bankId?: string; customer?: string; refuse?: boolean; tamperCallback?: (url: URL) => void } = {},
): Promise<Page> {
  const started = await pressBank(browser, login, options.bankId ?? 'demobank');
  expect(started.location, `a redirect to the bank (got ${started.status}: ${started.html.slice(0, 300)})`).to.be.a('string');
  const back = new URL(await atBank(bank.url, started.location!, { customer: options.customer, refuse: options.refuse }));
  options.tamperCallback?.(back);
  return browser.get(back.href);
}

/* E-signatures */

export interface TestPki {
  dir: string;
  ca: Issued;
  /** a citizen certificate with its key, as PEM */
  citizen(person: Person, options?: CitizenOptions): Promise<{ issued: Issued; certificatePem: string; privateKeyPem: string }>;
  close(): void;
}

/** A test CA in a temp folder (the folder is what vkhod trusts: VKHOD_ESIGN_TRUSTED_CAS_FILE). */
export async function startPki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'vkhod-pki-'));
  const ca = await createCa({ kind: 'ecdsa' });
  writeFileSync(join(dir, 'ca.pem'), ca.certificate.toString('pem'));
  return {
    dir,
    ca,
    async citizen(person, options) {
      const issued = await issueCitizen(ca, person, options);
      return { issued, certificatePem: issued.certificate.toString('pem'), privateKeyPem: await privateKeyPem(issued.keys.privateKey) };
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The challenge text and handle shown on an e-signature page. */
export function challengeOn(page: Page): { text: string; handle: string } {
  const text = page.html.match(/<pre class="challenge" id="esign-challenge">([^<]+)<\/pre>/)?.[1];
  const handle = page.html.match(/name="handle" value="([^"]+)"/)?.[1];
  expect(text, 'a challenge on the page').to.be.a('string');
  expect(handle, 'a challenge handle on the page').to.be.a('string');
  return { text: text!, handle: handle! };
}

export async function signText(text: string, signer: { certificatePem: string; privateKeyPem: string }): Promise<Buffer> {
  return Buffer.from(
    await signCms({ content: new TextEncoder().encode(text), certificatePem: signer.certificatePem, privateKeyPem: signer.privateKeyPem }),
  );
}
