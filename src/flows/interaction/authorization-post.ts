/**
 * `POST /auth` and `POST /session/end` (OIDC Core 3.1.2.1: the authorization endpoint must take
 * POST; RP-Initiated Logout allows it). The browser is sent on with 303 to the same request as a
 * GET: node-oidc-provider's own POST support needs its session cookie to be SameSite=None, while
 * a top-level GET navigation carries vkhod's SameSite=Lax session cookie even when the relying
 * party's page posted the form — so an existing sign-in is still seen (single sign-on works).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { UserError } from '../../web/errors.ts';

/**
 * The form as it was sent, read from the raw body rather than the parsed one: the body parser
 * makes `client_id[x]=1` an object and `a[]=1` an array, which came out as "[object Object]".
 * Names stay names (as in a GET) and a repeated parameter stays repeated (node-oidc-provider
 * refuses duplicates with invalid_request).
 */
function postedAsQuery(ctx: Context): string {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new UserError(415, 'errors.bad_request');
  if (ctx.querystring) throw new UserError(400, 'errors.bad_request');
  const raw = (ctx.request as { rawBody?: unknown }).rawBody;
  return new URLSearchParams(typeof raw === 'string' ? raw : '').toString();
}

export function authorizationPostRoutes(): Router {
  const router = new Router();
  for (const path of ['/auth', '/session/end']) {
    router.post(path, (ctx) => {
      const query = postedAsQuery(ctx);
      ctx.status = 303;
      ctx.redirect(query ? `${path}?${query}` : path);
    });
  }
  return router;
}
