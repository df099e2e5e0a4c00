/**
 * A development bank: a real OpenID Connect provider (node-oidc-provider) with a handful of
 * made-up customers (scripts/dev-people.ts) and its own tiny sign-in page where you pick one. It
 * lets `npm start` users and the tests sign in "through a bank" without the internet.
 *
 *   npm run dev-bank                      # http://localhost:3100, the bank vkhod uses by default in development
 *   DEV_BANK_PORT=3200 npm run dev-bank
 *
 * Tests start it in-process: `const bank = await startDevBank({ port: 0 })` → { url, close }.
 * Its client `vkhod` (secret in config/federation.ts DEV_BANK) may return to any
 * http://localhost:<port>/federation/callback or http://127.0.0.1:<port>/federation/callback.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { exportJWK, generateKeyPair } from 'jose';
import Koa from 'koa';
import mount from 'koa-mount';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { DEV_BANK } from '../config/federation.ts';
import { BANK_CUSTOMERS, type BankCustomer } from './dev-people.ts';

export interface DevBankOptions {
  /** 0 = a free port */
  port?: number;
  /** the address to listen on (default 127.0.0.1) */
  host?: string;
  /** the host name in the issuer URL (default: `host`) */
  publicHost?: string;
  /** more client registrations (e.g. a private_key_jwt client) besides `vkhod` */
  clients?: Record<string, unknown>[];
  customers?: BankCustomer[];
  /** more redirect URIs for the `vkhod` client (loopback callbacks are always allowed) */
  redirectUris?: string[];
}

export interface DevBank {
  url: string;
  provider: Provider;
  close(): Promise<void>;
}

/** The registration of vkhod at the development bank. */
export function vkhodClient(redirectUris: string[] = []): Record<string, unknown> {
  return {
    client_id: DEV_BANK.client_id,
    client_secret: DEV_BANK.client_secret,
    client_name: 'vkhod',
    // "native": any port on a loopback address (RFC 8252 §7.3) — vkhod's port varies in tests.
    application_type: 'native',
    redirect_uris: ['http://localhost/federation/callback', 'http://127.0.0.1/federation/callback', ...redirectUris],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

function claimsOf(c: BankCustomer): Record<string, unknown> {
  return {
    sub: c.id,
    family_name: c.family_name,
    given_name: c.given_name,
    middle_name: c.middle_name,
    name: [c.given_name, c.middle_name, c.family_name].filter(Boolean).join(' '),
    birthdate: c.birthdate,
    snils: c.snils,
    inn: c.inn,
    passport: c.passport,
    phone_number: c.phone_number,
    phone_number_verified: c.phone_number ? Boolean(c.phone_number_verified) : undefined,
    email: c.email,
    email_verified: c.email ? Boolean(c.email_verified) : undefined,
  };
}

/** The bank's state, in memory (a development bank forgets everything when it stops). */
function memoryAdapters(): (model: string) => Adapter {
  const items = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const live = (key: string) => {
    const item = items.get(key);
    if (item && item.expiresAt < Date.now()) items.delete(key);
    return items.get(key)?.payload;
  };
  return (model) => ({
    async upsert(id, payload, expiresIn) {
      items.set(`${model}:${id}`, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    },
    find: async (id) => live(`${model}:${id}`),
    findByUid: async (uid) =>
      [...items.keys()]
        .filter((k) => k.startsWith(`${model}:`))
        .map(live)
        .find((p) => p?.uid === uid),
    findByUserCode: async () => undefined,
    async consume(id) {
      const payload = live(`${model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id) {
      items.delete(`${model}:${id}`);
    },
    async revokeByGrantId(grantId) {
      for (const [key, item] of items) if (item.payload.grantId === grantId) items.delete(key);
    },
  });
}

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}h1{color:#0b6e4f}.customer{border:1px solid #ccc;border-radius:8px;padding:.75rem 1rem;margin:.75rem 0}button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:0;background:#0b6e4f;color:#fff;cursor:pointer}.cancel{background:#777}small{color:#555}</style>
</head><body>${body}</body></html>`;
}

function loginPage(uid: string, clientName: string, customers: BankCustomer[]): string {
  const items = customers
    .map(
      (c) => `<form class="customer" method="post" action="/interaction/${uid}/login">
<input type="hidden" name="customer" value="${escape(c.id)}">
<strong>${escape([c.family_name, c.given_name, c.middle_name].filter(Boolean).join(' '))}</strong><br>
<small>${escape(c.birthdate)} · СНИЛС ${escape(c.snils ?? '—')} · паспорт ${escape(c.passport ? `${c.passport.series} ${c.passport.number}` : '—')} · ${escape(c.phone_number ?? 'без телефона')}${c.phone_number && !c.phone_number_verified ? ' (не подтверждён)' : ''}</small><br>
<button type="submit">Войти как ${escape(c.given_name)}</button></form>`,
    )
    .join('\n');
  return page(
    'Демо-банк — вход',
    `<h1>Демо-банк</h1><p>«${escape(clientName)}» просит подтвердить вашу личность. Это учебный банк: выберите клиента.</p>
${items}
<form method="post" action="/interaction/${uid}/abort"><button class="cancel" type="submit">Отказаться</button></form>`,
  );
}

export async function startDevBank(options: DevBankOptions = {}): Promise<DevBank> {
  const customers = options.customers ?? BANK_CUSTOMERS;
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.publicHost ?? host}:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  // node-oidc-provider signs its cookies with these keys through the host koa app: both get them.
  const cookieKeys = [randomBytes(32).toString('base64url')];
  const configuration: Configuration = {
    adapter: memoryAdapters(),
    clients: [vkhodClient(options.redirectUris), ...(options.clients ?? [])] as unknown as Configuration['clients'],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'dev-bank-1', alg: 'RS256', use: 'sig' }] } as Configuration['jwks'],
    cookies: {
      keys: cookieKeys,
      names: { session: 'devbank.session', interaction: 'devbank.interaction', resume: 'devbank.resume' },
    },
    scopes: ['openid', 'profile', 'phone', 'email', 'snils', 'inn', 'passport'],
    claims: {
      openid: ['sub'],
      profile: ['family_name', 'given_name', 'middle_name', 'name', 'birthdate'],
      phone: ['phone_number', 'phone_number_verified'],
      email: ['email', 'email_verified'],
      snils: ['snils'],
      inn: ['inn'],
      passport: ['passport'],
    },
    pkce: { required: () => true },
    ttl: { Interaction: 900, Session: 3600, Grant: 3600, AuthorizationCode: 60, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const customer = customers.find((c) => c.id === sub);
      if (!customer) return undefined;
      return { accountId: sub, claims: async () => claimsOf(customer) as { sub: string } };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page(
        'Демо-банк — ошибка',
        `<h1>Ошибка</h1><p>${escape(String(out.error))}: ${escape(String(out.error_description ?? ''))}</p>`,
      );
    },
  };
  const provider = new Provider(url, configuration);

  const app = new Koa({ keys: cookieKeys });
  const router = new Router({ prefix: '/interaction/:uid' });
  router.use(bodyParser({ enableTypes: ['form'] }));
  router.get('/', async (ctx) => {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.prompt.name === 'consent') {
      // The customer agreed to share their data when they opened the account: no consent screen.
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      const grant = details.grantId
        ? (await provider.Grant.find(details.grantId))!
        : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    const client = await provider.Client.find(String(details.params.client_id));
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, client?.clientName ?? String(details.params.client_id), customers);
  });
  router.post('/login', async (ctx) => {
    const id = String((ctx.request.body as Record<string, unknown>).customer ?? '');
    if (!customers.some((c) => c.id === id)) ctx.throw(400, 'unknown customer');
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: id, amr: ['pwd', 'sms'] } },
      { mergeWithLastSubmission: false },
    );
  });
  router.post('/abort', async (ctx) => {
    await provider.interactionFinished(
      ctx.req,
      ctx.res,
      { error: 'access_denied', error_description: 'the customer refused' },
      { mergeWithLastSubmission: false },
    );
  });
  app.use(router.routes());
  app.use(mount(provider as unknown as Koa));
  server.on('request', app.callback());

  return {
    url,
    provider,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/* `npm run dev-bank`: the bank at http://localhost:3100 that vkhod uses by default in development. */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.DEV_BANK_PORT ?? new URL(DEV_BANK.issuer).port);
  const extra = (process.env.DEV_BANK_REDIRECT_URIS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bank = await startDevBank({ port, host: process.env.DEV_BANK_HOST ?? 'localhost', publicHost: 'localhost', redirectUris: extra });
  console.log(`development bank: ${bank.url} (client_id ${DEV_BANK.client_id}, secret ${DEV_BANK.client_secret})`);
  console.log('customers:');
  for (const c of BANK_CUSTOMERS)
    console.log(`  ${c.id}  ${c.family_name} ${c.given_name} ${c.middle_name ?? ''}  ${c.birthdate}  СНИЛС ${c.snils ?? '—'}`);
  const stop = () => void bank.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
