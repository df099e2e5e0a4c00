/**
 * Guessing user codes (RFC 8628 §5.1): every code typed at `/device` is reserved against the
 * client IP's budget of wrong codes before node-oidc-provider looks it up (parallel guesses cannot
 * all pass one count), and given back unless the code was not found (device-pages.ts records the
 * outcome). Over the budget the address gets a 429 page until the window ends.
 * Also: a device sign-in's resume without its cookie is answered here (see below).
 */
import type { Context, Next } from 'koa';
import type { Services } from '../../services.ts';
import { answerError } from '../../web/errors.ts';
import type { DeviceCodeOutcome } from './device-pages.ts';
import { routedPath } from '../../web/routed-path.ts';

type Deps = Pick<Services, 'limits' | 'views'>;

/** node-oidc-provider's code verification endpoint (features.deviceFlow). */
export const DEVICE_CODE_PATH = '/device';

/** node-oidc-provider's resume of a device sign-in (`/device/:uid`), reached only with its resume cookie. */
const DEVICE_RESUME = /^\/device\/[^/]+$/;
const RESUME_COOKIE = 'vkhod.resume';

export function deviceCodeEntryLimit({ limits, views }: Deps) {
  return async function limitDeviceCodeEntry(ctx: Context, next: Next): Promise<void> {
    // The resume of a device sign-in comes back with the cookie the provider set for it. Without
    // one there is nothing to resume — and node-oidc-provider 9 would answer a browser that has no
    // session yet with a 500 (its error page for this route saves a session that was never
    // stored). Said here as the expired sign-in it is. (`/device/auth` is the device
    // authorization endpoint: POST only, any other method lands here too.)
    const path = routedPath(ctx);
    if (DEVICE_RESUME.test(path) && !(ctx.method === 'POST' && path === '/device/auth') && !ctx.cookies.get(RESUME_COOKIE)) {
      answerError(views, ctx, 400, views.t(ctx, 'errors.interaction_expired'));
      return;
    }
    if (ctx.method !== 'POST' || path !== DEVICE_CODE_PATH) return next();
    const reservation = await limits.reserve('device-code-failures-ip', ctx.ip);
    if (!reservation.allowed) {
      ctx.set('retry-after', String(reservation.retryAfter));
      answerError(views, ctx, 429, views.t(ctx, 'device.too_many', { minutes: Math.ceil(reservation.retryAfter / 60) }));
      return;
    }
    try {
      await next();
    } finally {
      if ((ctx.state.deviceCodeOutcome as DeviceCodeOutcome | undefined) !== 'wrong')
        await limits.release('device-code-failures-ip', ctx.ip);
    }
  };
}
