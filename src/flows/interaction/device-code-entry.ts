/**
 * Guessing user codes (RFC 8628 §5.1): every code typed at `/device` is reserved against the
 * client IP's budget of wrong codes before node-oidc-provider looks it up (parallel guesses cannot
 * all pass one count), and given back unless the code was not found (device-pages.ts records the
 * outcome). Over the budget the address gets a 429 page until the window ends.
 */
import type { Context, Next } from 'koa';
import type { Services } from '../../services.ts';
import { answerError } from '../../web/errors.ts';
import type { DeviceCodeOutcome } from './device-pages.ts';

type Deps = Pick<Services, 'limits' | 'views'>;

/** node-oidc-provider's code verification endpoint (features.deviceFlow). */
export const DEVICE_CODE_PATH = '/device';

export function deviceCodeEntryLimit({ limits, views }: Deps) {
  return async function limitDeviceCodeEntry(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== DEVICE_CODE_PATH) return next();
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
