/**
 * The first check on every request, before anything builds a URL from it or routes it: the
 * method is one vkhod serves, the Host (and, behind a trusted proxy, the forwarded host and
 * protocol) is a host name, a body is not compressed, and the authorization resume endpoint
 * carries no query. Anything
 * else is the sender's mistake — a 4xx page or JSON, never a 500 further down (node-oidc-provider
 * builds its URLs from the Host and throws on one that is not a host).
 *
 * On the way out it also reads away a body that a parser stopped reading (over the size limit):
 * a paused half-read body would keep the kept-alive connection from ever reaching its next request.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import { answerError } from './errors.ts';
import type { Views } from './views.ts';
import { routedPath } from './routed-path.ts';

/** Every method any vkhod endpoint answers; the rest (TRACE, PROPFIND, PUT, …) are refused here. */
export const SERVED_METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS'] as const;
const SERVED = new Set<string>(SERVED_METHODS);

/** reg-name or IPv4 (letters, digits, dot, dash) or a bracketed IPv6 literal; optional port. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Health probes may come without a Host (HTTP/1.0); they build no URLs. */
const HOSTLESS_PATHS = new Set(['/healthz', '/readyz']);

/** node-oidc-provider's resume endpoint (`/auth/:uid`): it sends the browser there without a query. */
const RESUME = /^\/auth\/[^/]+$/;

/** The request body has a content coding other than identity. */
export function isCompressed(ctx: Context): boolean {
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  return encoding !== '' && encoding !== 'identity';
}

export function isValidHost(host: string): boolean {
  return host.length <= 261 && HOST.test(host);
}

/**
 * The Host header as sent (koa's `ctx.host` quietly drops userinfo and anything after a comma)
 * and, behind a trusted proxy, every X-Forwarded-Host hop: each must be a host name.
 */
function hostsValid(ctx: Context): boolean {
  const host = ctx.get('host');
  if (!host) {
    if (!HOSTLESS_PATHS.has(routedPath(ctx))) return false;
  } else if (!isValidHost(host)) return false;
  const forwarded = ctx.app.proxy ? ctx.get('x-forwarded-host') : '';
  return !forwarded || forwarded.split(',').every((hop) => isValidHost(hop.trim()));
}

/**
 * `ownAnswers`: path prefixes that answer a wrong method or a compressed body themselves, in their
 * own vocabulary (the admin API, in JSON).
 */
export function requestGate(views: Views, options: { ownAnswers?: string[] } = {}) {
  const ownAnswers = (options.ownAnswers ?? []).map((prefix) => ({ prefix, under: `${prefix}/` }));
  const answersItself = (path: string) => ownAnswers.some(({ prefix, under }) => path === prefix || path.startsWith(under));
  return function gateRequest(ctx: Context, next: Next): Promise<void> | undefined {
    const own = answersItself(routedPath(ctx));
    if (!SERVED.has(ctx.method) && !own) {
      ctx.set('allow', SERVED_METHODS.join(', '));
      answerError(views, ctx, 405, views.t(ctx, 'errors.method_not_allowed'));
      return;
    }
    if (!hostsValid(ctx) || (ctx.protocol !== 'http' && ctx.protocol !== 'https')) {
      answerError(views, ctx, 400, views.t(ctx, 'errors.bad_host'));
      return;
    }
    // No browser or OAuth client compresses a request body, and a decoder left behind by a parser
    // that gave up (a compressed body over the size limit) fails later with no one listening —
    // an uncaught error that takes the whole process down. So: identity only (RFC 7694 §3).
    if (isCompressed(ctx) && !own) {
      ctx.set('accept-encoding', 'identity');
      answerError(views, ctx, 415, views.t(ctx, 'errors.compressed_body'));
      return;
    }
    if (RESUME.test(routedPath(ctx)) && ctx.querystring) {
      answerError(views, ctx, 400, views.t(ctx, 'errors.bad_request'));
      return;
    }
    return next().then(
      () => discardUnreadBody(ctx.req),
      (err: unknown) => {
        discardUnreadBody(ctx.req);
        throw err;
      },
    );
  };
}

/** How much of an abandoned body is read away before the connection is cut instead. */
const DISCARD_LIMIT = 1024 * 1024;

/**
 * A body parser that gives up (413, a broken encoding) leaves the request paused with the rest of
 * the body unread; node then never parses the next request on that connection. Read the rest
 * away (up to 1 MiB; a sender that keeps going past that loses the connection).
 */
export function discardUnreadBody(req: IncomingMessage): void {
  if (req.complete || req.readableFlowing !== false || req.destroyed) return;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_LIMIT) req.socket.destroy();
  });
  req.resume();
}
