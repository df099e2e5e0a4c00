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

function postedAsQuery(ctx: Context): string {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new UserError(415, 'errors.bad_request');
  if (ctx.querystring) throw new UserError(400, 'errors.bad_request');
  const body = (ctx.request as { body?: unknown }).body;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    // A repeated parameter stays repeated: node-oidc-provider refuses duplicates with invalid_request.
    for (const one of Array.isArray(value) ? value : [value]) query.append(name, String(one));
  }
  return query.toString();
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
