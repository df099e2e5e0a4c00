/**
 * The demo relying party served at /demo when VKHOD_DEMO_RP is on (development default): a real
 * OpenID Connect client (openid-client) talking to this vkhod over HTTP, so a newcomer sees the
 * whole round trip — authorization request, sign-in, consent, tokens, ID-token claims, userinfo.
 */
import Router from '@koa/router';
import * as oidc from 'openid-client';
import type { ClientMetadata } from '../../config/clients.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { OidcAdapter } from '../store.ts';
import { ACR_VALUES } from '../oidc/acr.ts';
import type { Views } from '../web/views.ts';

export const DEMO_CLIENT_ID = 'vkhod-demo';

export function demoClient(issuer: string, box: SecretBox): ClientMetadata {
  return {
    client_id: DEMO_CLIENT_ID,
    client_name: 'Демо-сервис vkhod',
    client_secret: box.mac('cookies', 'demo-client-secret'),
    redirect_uris: [`${issuer}/demo/callback`],
    post_logout_redirect_uris: [`${issuer}/demo`],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: `openid offline_access ${SCOPES.join(' ')}`,
  };
}

const COOKIE = 'vkhod.demo';
/** What the demo may ask for: the standard scopes and the ESIA-style ones. */
const SCOPES = ['profile', 'email', 'phone', 'fullname', 'birthdate', 'gender', 'birthplace', 'snils', 'inn', 'id_doc', 'addresses'];
const DEFAULT_ON = new Set(['profile', 'email', 'phone']);

/** The demo keeps what it received server-side (it can exceed a cookie), for an hour. */
const RESULT_TTL_SECONDS = 3600;

export function demoRoutes(options: {
  issuer: string;
  client: ClientMetadata;
  views: Views;
  secureCookies: boolean;
  results: OidcAdapter;
}): Router {
  const router = new Router({ prefix: '/demo' });
  const { views, client } = options;
  let configuration: Promise<oidc.Configuration> | undefined;
  const discover = () => {
    configuration ??= oidc
      .discovery(
        new URL(options.issuer),
        client.client_id,
        client.client_secret,
        undefined,
        options.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err) => {
        configuration = undefined;
        throw err;
      });
    return configuration;
  };
  const cookie = { httpOnly: true, sameSite: 'lax' as const, signed: true, secure: options.secureCookies, path: '/demo', overwrite: true };

  router.get('/', async (ctx) => {
    const resultId = ctx.cookies.get(`${COOKIE}.result`, { signed: true });
    const result = resultId ? await options.results.find(resultId) : undefined;
    views.render(ctx, 'demo', {
      title: 'demo.title',
      scopes: SCOPES.map((s) => ({ name: s, on: DEFAULT_ON.has(s) })),
      acrValues: ACR_VALUES,
      result,
      error: typeof ctx.query.error === 'string' ? ctx.query.error.slice(0, 200) : undefined,
    });
  });

  router.get('/login', async (ctx) => {
    const config = await discover();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const requested = SCOPES.filter((s) => ctx.query[s] === 'on');
    const params: Record<string, string> = {
      redirect_uri: client.redirect_uris[0]!,
      scope: ['openid', ...requested].join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };
    const acr = typeof ctx.query.acr === 'string' ? ctx.query.acr : '';
    if ((ACR_VALUES as readonly string[]).includes(acr)) params.acr_values = acr;
    ctx.cookies.set(`${COOKIE}.tx`, Buffer.from(JSON.stringify({ verifier, state, nonce })).toString('base64url'), {
      ...cookie,
      maxAge: 600_000,
    });
    ctx.redirect(oidc.buildAuthorizationUrl(config, params).href);
  });

  router.get('/callback', async (ctx) => {
    const config = await discover();
    const raw = ctx.cookies.get(`${COOKIE}.tx`, { signed: true });
    if (!raw) return ctx.redirect('/demo?error=no_transaction');
    const tx = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as { verifier: string; state: string; nonce: string };
    ctx.cookies.set(`${COOKIE}.tx`, null, cookie);
    try {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(ctx.originalUrl, options.issuer), {
        pkceCodeVerifier: tx.verifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
      });
      const claims = tokens.claims()!;
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      const resultId = oidc.randomState();
      await options.results.upsert(resultId, { claims, userinfo, idToken: tokens.id_token }, RESULT_TTL_SECONDS);
      ctx.cookies.set(`${COOKIE}.result`, resultId, cookie);
      ctx.redirect('/demo');
    } catch (err) {
      const e = err as { error?: string; code?: string; message: string };
      ctx.redirect(`/demo?error=${encodeURIComponent(e.error ?? e.code ?? e.message)}`);
    }
  });

  router.get('/logout', async (ctx) => {
    const config = await discover();
    const resultId = ctx.cookies.get(`${COOKIE}.result`, { signed: true });
    ctx.cookies.set(`${COOKIE}.result`, null, cookie);
    const saved = resultId ? await options.results.find(resultId) : undefined;
    if (resultId) await options.results.destroy(resultId);
    const idToken = typeof saved?.idToken === 'string' ? saved.idToken : undefined;
    ctx.redirect(
      oidc.buildEndSessionUrl(config, {
        post_logout_redirect_uri: client.post_logout_redirect_uris![0]!,
        ...(idToken ? { id_token_hint: idToken } : {}),
      }).href,
    );
  });

  return router;
}
