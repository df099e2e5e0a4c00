/**
 * The request path as the routers match it. node-oidc-provider's router and @koa/router (not
 * `sensitive`, not `strict`) both match a path without regard to the case of ASCII letters and
 * with one trailing slash ignored: `/AUTH`, `/Auth/` and `/auth` reach the same endpoint, as do
 * `/Operator/Login` and `/operator/login`. Whatever decides about a request by its path before the
 * router has it — a rate limit, the admin listener's fence, the JSON answers of machine endpoints,
 * the HTTPS rule, the device-code budget — must see the path the same way, or another spelling
 * reaches the endpoint past the decision. So every such check compares `routedPath(ctx)`, never
 * `ctx.path`. Only ASCII letters are folded (the routers fold no others to ASCII).
 */
import type { Context } from 'koa';

/** The last path folded and its fold: a request's middlewares ask for the same path many times (issue 15). */
let lastPath: string | undefined;
let lastRouted = '';

/** `path` with ASCII letters in lower case and one trailing slash (not the root's) dropped. */
export function routedPathOf(path: string): string {
  if (path === lastPath) return lastRouted;
  const lower = /[A-Z]/.test(path) ? path.replace(/[A-Z]+/g, (letters) => letters.toLowerCase()) : path;
  const routed = lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
  lastPath = path;
  lastRouted = routed;
  return routed;
}

/** The request's path as the routers match it (see above). */
export function routedPath(ctx: Pick<Context, 'path'>): string {
  return routedPathOf(ctx.path);
}
