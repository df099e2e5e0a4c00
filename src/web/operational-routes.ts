/**
 * The operational pages and files: home, health and readiness, the language switch, the
 * "stay signed in" page after the logout question, the favicon, the WebAuthn browser helper and (development only) the outbox.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import type { Config } from '../../config/load.ts';
import type { DevOutbox } from '../notify/notifier.ts';
import type { Store } from '../store.ts';
import type { Views } from './views.ts';

const READY_TIMEOUT_MS = 2000;

/** What these pages need (a subset of the services, named here so web/ does not import the composition root). */
export interface OperationalDeps {
  views: Views;
  store: Store;
  outbox?: DevOutbox;
  config: Config;
}

export function operationalRoutes(services: OperationalDeps): Router {
  const router = new Router();
  const { views, store, outbox, config } = services;
  /** Ready = the store can write (see Store.ping), bounded by a timeout. */
  const readiness = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
    });
    const probe = store.ping().then(
      () => true,
      () => false,
    );
    return Promise.race([probe, timeout]).finally(() => clearTimeout(timer));
  };
  router.get('/', (ctx) => views.render(ctx, 'home', { title: 'home.title', demo: config.demoRp, outbox: Boolean(outbox) }));
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    if (await readiness()) {
      ctx.body = { status: 'ready', store: store.kind };
    } else {
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
  /** "Stay signed in" on the logout page: nothing changes and the relying party is not told anything. */
  router.get('/logout/stayed', (ctx) =>
    views.render(ctx, 'done', { title: 'logout.stayed_title', message: views.t(ctx, 'logout.stayed') }),
  );
  router.get('/favicon.ico', (ctx) => {
    ctx.status = 301;
    ctx.redirect('/static/favicon.svg');
  });
  /** The WebAuthn browser helper, served from the npm package (nothing from a CDN). */
  const webauthnBrowser = readFileSync(
    join(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js'),
  );
  router.get('/static/vendor/webauthn-browser.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.set('cache-control', config.production ? 'public, max-age=86400' : 'no-cache');
    ctx.body = webauthnBrowser;
  });
  if (outbox) {
    router.get('/dev/outbox', (ctx) => views.render(ctx, 'outbox', { title: 'outbox.title', messages: outbox.list() }));
  }
  return router;
}
