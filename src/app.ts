/**
 * Builds the koa application from its dependencies: security headers, error pages, static
 * files, health, the hosted flows, the demo relying party and node-oidc-provider. Tests build it
 * exactly the same way with their own store and configuration.
 */
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import Koa from 'koa';
import mount from 'koa-mount';
import serve from 'koa-static';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import { Accounts } from './accounts/accounts.ts';
import { demoClient, demoRoutes } from './demo/relying-party.ts';
import { interactionRoutes } from './flows/interaction.ts';
import { providerPages } from './flows/provider-pages.ts';
import { recoveryFlow } from './flows/recovery.ts';
import { registrationFlow } from './flows/registration.ts';
import { OneTimeCodes } from './methods/one-time-code.ts';
import { PasswordMethod } from './methods/password.ts';
import { ConsoleMailTransport, ConsoleSmsGateway } from './notify/console-gateways.ts';
import { HttpSmsGateway } from './notify/http-sms-gateway.ts';
import { DevOutbox, Notifier, type MailTransport, type SmsGateway } from './notify/notifier.ts';
import { SmtpMailTransport } from './notify/smtp-mail-transport.ts';
import { SigningKeys } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { AuditTrail } from './security/audit.ts';
import { Csrf } from './security/csrf.ts';
import { securityHeaders } from './security/headers.ts';
import { Limits } from './security/limits.ts';
import { SecretBox } from './security/secret-box.ts';
import type { Services } from './services.ts';
import type { Store } from './store.ts';
import { errorPages } from './web/errors.ts';
import { Views } from './web/views.ts';

export const VIEWS_DIR = fileURLToPath(new URL('../views', import.meta.url));

/** Replaceable parts (tests swap the gateways to capture messages or simulate failures). */
export interface AppOverrides {
  sms?: SmsGateway;
  mail?: MailTransport;
}

export interface VkhodApp {
  app: Koa;
  services: Services;
}

function gateways(config: Config, logger: Logger, overrides: AppOverrides): { sms: SmsGateway; mail: MailTransport } {
  const showText = !config.production;
  const sms =
    overrides.sms ??
    (config.sms.gateway === 'http'
      ? new HttpSmsGateway({ url: config.sms.url, token: config.sms.token, sender: config.sms.sender })
      : new ConsoleSmsGateway(logger, showText));
  const mail =
    overrides.mail ??
    (config.mail.transport === 'smtp' ? new SmtpMailTransport(config.mail.url, config.mail.from) : new ConsoleMailTransport(logger, showText));
  return { sms, mail };
}

function operationalRoutes(services: Services): Router {
  const router = new Router();
  const { views, store, outbox, config } = services;
  router.get('/', (ctx) => views.render(ctx, 'home', { title: 'home.title', demo: config.demoRp, outbox: Boolean(outbox) }));
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    try {
      await store.ping();
      ctx.body = { status: 'ready', store: store.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', store: store.kind };
    }
  });
  /** The language switch: remembers the choice and goes back to a local page. */
  router.get('/lang/:locale', (ctx) => {
    const locale = ctx.params.locale === 'en' ? 'en' : 'ru';
    ctx.cookies.set('vkhod.lang', locale, { httpOnly: true, sameSite: 'lax', secure: config.production, maxAge: 365 * 86400_000 });
    const back = typeof ctx.query.back === 'string' && /^\/(?![/\\])/.test(ctx.query.back) ? ctx.query.back : '/';
    ctx.redirect(back);
  });
  if (outbox) {
    router.get('/dev/outbox', (ctx) => views.render(ctx, 'outbox', { title: 'outbox.title', messages: outbox.list() }));
  }
  return router;
}

export async function buildApp(config: Config, store: Store, logger: Logger, overrides: AppOverrides = {}): Promise<VkhodApp> {
  const box = new SecretBox(config.secretKey);
  const views = new Views(VIEWS_DIR);
  const outbox = config.devOutbox && !config.production ? new DevOutbox() : undefined;
  const { sms, mail } = gateways(config, logger, overrides);
  const notifier = new Notifier(sms, mail, logger, outbox);
  const audit = new AuditTrail(store.audit, logger);
  const limits = new Limits(store, config.limits);
  const accounts = new Accounts(store);
  const clients = config.demoRp ? [...config.clients.filter((c) => c.client_id !== 'vkhod-demo'), demoClient(config.issuer, box)] : config.clients;
  const jwks = await new SigningKeys(store.settings, box).load(config.ttl.refreshToken);
  const cookieKeys = [box.key('cookies').toString('base64url')];

  const provider = createProvider({ config, store, accounts, clients, jwks, cookieKeys, pages: providerPages(views) });
  const services: Services = {
    config,
    store,
    logger,
    views,
    box,
    csrf: new Csrf(box, config.production),
    limits,
    audit,
    accounts,
    notifier,
    outbox,
    codes: new OneTimeCodes(store.challenges, notifier, limits, box),
    password: new PasswordMethod(accounts, limits, audit),
    provider,
  };

  const app = new Koa({ proxy: config.trustProxy, keys: cookieKeys });
  app.silent = true;
  app.on('error', (err: Error) => logger.error({ err }, 'koa error'));

  app.use(errorPages(views, logger));
  app.use(securityHeaders({ hsts: config.production }));
  app.use(mount('/static', serve(`${VIEWS_DIR}/static`, { maxage: config.production ? 86400_000 : 0, gzip: false })));

  const pages = new Router();
  pages.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' }));
  pages.use(services.csrf.middleware());
  const flows = [registrationFlow(services), recoveryFlow(services)];
  pages.use(operationalRoutes(services).routes());
  pages.use(interactionRoutes(services, flows).routes());
  for (const flow of flows) pages.use(flow.routes().routes());
  if (config.demoRp) pages.use(demoRoutes({ issuer: config.issuer, client: clients.find((c) => c.client_id === 'vkhod-demo')!, views, secureCookies: config.production }).routes());
  app.use(pages.routes());
  app.use(pages.allowedMethods());
  app.use(mount(provider));

  return { app, services };
}
