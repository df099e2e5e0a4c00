/**
 * Anonymous requests that make the store keep something are counted per client IP (DESIGN §6:
 * anonymous requests can never grow the store without bound): authorization requests (`/auth`,
 * PAR at `/request`) each may store an interaction, a device authorization (`/device/auth`) a
 * device code and the code-entry page (`/device`) a session, `/session/end` a session, a federation
 * callback a look-up, a bank recovery's start (`POST /recover/bank/:bank`) a round trip, every showing
 * of an e-signature page (`…/esign`) a challenge. Over the limit: 429 with Retry-After. `/session/end` parameters are capped
 * in length here too (node-oidc-provider keeps its state in the session); the authorization
 * endpoint caps its own in src/oidc/request-checks.ts.
 */
import type { Context, Next } from 'koa';
import { overlongParameter } from '../../oidc/request-checks.ts';
import type { Services } from '../../services.ts';
import { answerError } from '../../web/errors.ts';
import { routedPath } from '../../web/routed-path.ts';

type LimitRule = Parameters<Services['limits']['hit']>[0];

/** GET and HEAD are answered alike; POST /auth and /session/end become a GET (authorization-post.ts). */
function ruleFor(ctx: Context): LimitRule | undefined {
  const read = ctx.method === 'GET' || ctx.method === 'HEAD';
  const path = routedPath(ctx);
  if (read && path === '/auth') return 'authorize-ip';
  if (ctx.method === 'POST' && path === '/request') return 'authorize-ip';
  if (read && path === '/session/end') return 'end-session-ip';
  // Device authorization grant: a device code per request, a session per showing of the code page.
  if (ctx.method === 'POST' && path === '/device/auth') return 'authorize-ip';
  if (read && path === '/device') return 'authorize-ip';
  if (read && path === '/federation/callback') return 'federation-callback-ip';
  // A recovery through a bank starts a round trip (a flow record) like an authorization request does.
  if (ctx.method === 'POST' && /^\/recover\/bank\/[^/]+$/.test(path)) return 'authorize-ip';
  // Every showing of an e-signature page issues a fresh challenge (a stored row), signed in or not.
  if (read && /\/esign$/.test(path)) return 'authorize-ip';
  return undefined;
}

export function anonymousRequestLimits({ limits, views }: Pick<Services, 'limits' | 'views'>) {
  const limited = async (ctx: Context, next: Next, rule: LimitRule): Promise<void> => {
    const state = await limits.hit(rule, ctx.ip);
    if (state.blocked) {
      ctx.set('retry-after', String(state.retryAfter));
      answerError(views, ctx, 429, views.t(ctx, 'errors.too_many'));
      return;
    }
    if (rule === 'end-session-ip' && overlongParameter(ctx.query)) {
      answerError(views, ctx, 400, views.t(ctx, 'errors.bad_request'));
      return;
    }
    await next();
  };
  // Most requests (every token request) fall under no rule: they go on without an await here.
  return function limitAnonymousRequests(ctx: Context, next: Next): Promise<void> {
    const rule = ruleFor(ctx);
    return rule ? limited(ctx, next, rule) : next();
  };
}
