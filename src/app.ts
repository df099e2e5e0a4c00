/**
 * Builds the koa application from its dependencies: security headers, error pages, static
 * files, health, the hosted flows, the demo relying party and node-oidc-provider. Tests build it
 * exactly the same way with their own store and configuration.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import mount from 'koa-mount';
import serve from 'koa-static';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import { VIEWS_DIR } from '../config/package-root.ts';
import { ADMIN_API_PREFIX, adminApi } from './admin/api.ts';
import { httpsOnly } from './web/https-only.ts';
import { operatorPages } from './admin/operator-pages.ts';
import { federationCabinetRoutes } from './cabinet/federation.ts';
import { cabinetRoutes } from './cabinet/routes.ts';
import { deviceTracking } from './cabinet/devices.ts';
import { DEMO_CLIENT_ID, demoRoutes } from './demo/relying-party.ts';
import { esiaRoutes } from './esia/routes.ts';
import { anonymousRequestLimits } from './flows/interaction/anonymous-requests.ts';
import { authorizationPostRoutes } from './flows/interaction/authorization-post.ts';
import { deviceCodeEntryLimit } from './flows/interaction/device-code-entry.ts';
import { federationCallbackRoutes } from './flows/federation/callback.ts';
import { interactionRoutes } from './flows/interaction/routes.ts';
import { recoveryFlow } from './flows/contact/recovery.ts';
import { recoveryBankRoutes } from './flows/contact/recovery-bank.ts';
import { recoveryEsignRoutes } from './flows/contact/recovery-esign.ts';
import { registrationFlow } from './flows/contact/registration.ts';
import { clientIp } from './security/client-ip.ts';
import { securityHeaders } from './security/headers.ts';
import { buildServices, type ServiceOverrides, type Services } from './services.ts';
import type { Store } from './store.ts';
import { answerError, errorPages, retryAfterOn503 } from './web/errors.ts';
import { operationalRoutes } from './web/operational-routes.ts';
import { requestGate } from './web/request-gate.ts';
import { POST_ONLY_PATHS, PROVIDER_API_PATHS } from './web/machine-endpoints.ts';
import { trustedProxyPeer } from './security/client-ip.ts';
import { adminListenerOnly, noAdminOnPublicListener } from './web/admin-listener.ts';
import { requestIds } from './web/request-context.ts';
import { routedPath } from './web/routed-path.ts';

export { VIEWS_DIR };

/** node-oidc-provider's limit on the body of its endpoints (lib/shared/selective_body.js). */
const PROVIDER_BODY_LIMIT = 56 * 1024;

/** Replaceable parts (tests swap the gateways to capture messages or simulate failures). */
export type AppOverrides = ServiceOverrides;

export interface VkhodApp {
  app: Koa;
  services: Services;
}

export async function buildApp(config: Config, store: Store, logger: Logger, overrides: AppOverrides = {}): Promise<VkhodApp> {
  const services = await buildServices(config, store, logger, VIEWS_DIR, overrides);
  const { views, provider, clients, cookieKeys } = services;
  const app = new Koa({ proxy: config.trustProxy, keys: cookieKeys });
  app.silent = true;
  app.on('error', (err: Error & { code?: unknown }) => {
    // Bytes the client sent that are not HTTP (Node's parser: HPE_…, e.g. a body longer than its
    // Content-Length): the client's fault, answered 400 — a warning, not a server error.
    if (typeof err.code === 'string' && err.code.startsWith('HPE_'))
      logger.warn({ parserError: err.code, detail: err.message }, 'request not understood (malformed HTTP)');
    else logger.error({ err }, 'koa error');
  });
  // Issue 14: a request id on every request and log line; metrics by route template; the admin
  // listener serves only the admin paths (src/web/admin-listener.ts).
  app.use(requestIds(trustedProxyPeer(config.proxyTrust)));
  app.use(services.metrics.httpMiddleware());
  app.use(adminListenerOnly(Boolean(config.adminListener)));
  // One client IP for everything after this (limits, audit, the provider): never a value the
  // client chose (src/security/client-ip.ts).
  app.use(clientIp(config.proxyTrust));

  app.use(retryAfterOn503());

  // Machine endpoints (JSON for relying parties) go straight to the provider: no pages, no
  // sessions, no CSP — only the headers an API response needs. The hot path of every token.
  const providerApp = mount(provider);
  // Before anything routes the request or builds a URL from its Host (src/web/request-gate.ts).
  app.use(requestGate(views, { ownAnswers: [ADMIN_API_PREFIX] }));
  app.use(issuerHost(config.issuer));
  app.use(anonymousRequestLimits(services));
  const apiHeaders: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(config.production ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
  // Relying parties may cache the keys while a new one waits for its activation (never longer than
  // 10 minutes: a withdrawn key leaves their caches within that time too).
  const jwksCaching = `public, max-age=${Math.min(600, config.signingKeys.activationDelaySeconds)}`;
  app.use((ctx, next) => {
    const path = routedPath(ctx);
    if (!PROVIDER_API_PATHS.has(path)) return next();
    ctx.set(apiHeaders);
    if (POST_ONLY_PATHS.has(path)) {
      // A GET of a POST-only endpoint is a client's mistake: say so in JSON with Allow, not as the
      // HTML "page not found" it fell through to.
      if (ctx.method === 'GET' || ctx.method === 'HEAD') {
        ctx.set('allow', 'POST, OPTIONS');
        answerError(views, ctx, 405, views.t(ctx, 'errors.post_only'));
        return;
      }
      // RFC 6749 §5.1: Cache-Control: no-store (the provider's) and Pragma: no-cache.
      ctx.set('pragma', 'no-cache');
      // A body over the provider's own limit is 413, as everywhere else (the provider says only
      // "failed to parse the request body"); the request gate reads the rest away.
      if ((ctx.request.length ?? 0) > PROVIDER_BODY_LIMIT) {
        answerError(views, ctx, 413, views.t(ctx, 'errors.too_large'));
        return;
      }
    }
    if (path !== '/jwks') return providerApp(ctx, next);
    return providerApp(ctx, next).then(() => {
      if (ctx.status === 200) ctx.set('cache-control', jwksCaching);
    });
  });
  app.use(errorPages(views, logger));
  app.use(noAdminOnPublicListener(Boolean(config.adminListener)));
  app.use(securityHeaders({ hsts: config.production }));
  app.use(mount('/static', serve(`${VIEWS_DIR}/static`, { maxage: config.production ? 86400_000 : 0, gzip: false })));

  // The admin API answers JSON only and reads its own bodies (see src/admin/api.ts).
  app.use(adminApi(services));

  // The ESIA profile (/aas/oauth2/…, /rs/prns/…, /idp/ext/Logout): its own bodies, JSON or pages (src/esia).
  const esia = esiaRoutes(services);
  app.use(esia.routes());
  app.use(esia.allowedMethods());

  // Production pages set Secure cookies: a plain-HTTP request gets a 403 that says so, not a 500.
  // (The admin API and the ESIA profile above set none; the provider's machine endpoints neither.)
  if (config.production) app.use(httpsOnly(logger));

  const pages = new Router();
  pages.use(
    bodyParser({
      enableTypes: ['form', 'json'],
      formLimit: '16kb',
      jsonLimit: '64kb',
      encoding: 'utf-8',
      // A body that cannot be read (e.g. "gzip" that is not) is the sender's mistake: 4xx, not 500.
      onError: (err) => {
        throw Object.assign(err, { status: (err as { status?: number }).status ?? 400 });
      },
    }),
  );
  pages.use(services.csrf.middleware());
  const flows = [registrationFlow(services), recoveryFlow(services)];
  pages.use(operationalRoutes(services).routes());
  pages.use(authorizationPostRoutes().routes());
  pages.use(interactionRoutes(services, flows).routes());
  pages.use(cabinetRoutes(services).routes());
  pages.use(federationCabinetRoutes(services).routes());
  pages.use(federationCallbackRoutes(services).routes());
  pages.use(operatorPages(services).routes());
  pages.use(recoveryEsignRoutes(services).routes()); // before /recover/:flow
  pages.use(recoveryBankRoutes(services).routes()); // before /recover/:flow
  for (const flow of flows) pages.use(flow.routes().routes());
  if (config.demoRp)
    pages.use(
      demoRoutes({
        issuer: config.issuer,
        client: clients.find((c) => c.client_id === DEMO_CLIENT_ID)!,
        views,
        secureCookies: config.production,
        results: store.oidcAdapter('VkhodDemo'),
      }).routes(),
    );
  app.use(pages.routes());
  // 405 with `Allow` (errorPages draws the page for the empty answer).
  app.use(pages.allowedMethods());
  // Records the device of each new sign-in (and alerts on a new one) before the answer leaves.
  app.use(deviceTracking(services));
  // Wrong user codes of the device authorization grant, counted per address.
  app.use(deviceCodeEntryLimit(services));
  app.use(providerApp);

  return { app, services };
}

/**
 * Every URL vkhod hands out names the issuer's host, whatever Host the request came with.
 * node-oidc-provider builds its endpoints in discovery, the device flow's verification_uri and its
 * forms' actions from the request's host: a request with `Host: evil.example` got discovery
 * pointing token and userinfo calls at evil.example — one such answer kept by a cache that does
 * not key on Host, or a device shown a phishing address. The request's host is read as the
 * issuer's from here on (the transport — http or https — stays the request's own: the
 * HTTPS-only rule and Secure cookies depend on it). The gate before this has already refused a
 * Host that is not a host name.
 */
function issuerHost(issuer: string): Koa.Middleware {
  const host = new URL(issuer).host;
  return (ctx, next) => {
    Object.defineProperty(ctx.request, 'host', { value: host, configurable: true });
    return next();
  };
}
