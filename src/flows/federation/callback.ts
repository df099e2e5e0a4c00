/**
 * GET /federation/callback — the one redirect URI registered at every bank. It finds the round
 * trip the response belongs to (the signed cookie's state must equal the response's state) and
 * hands the response on unchanged to where the trip started: the interaction (whose cookie is
 * scoped to /interaction/:uid), the cabinet or the recovery page (recovery-bank.ts). The response itself is checked there. A stray
 * callback (no round trip) is logged, not audited; callbacks are limited per IP
 * (src/security/request-limits.ts).
 */
import Router from '@koa/router';
import type { Services } from '../../services.ts';
import { pendingBank, showBankProblem } from '../../federation/round-trip.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'audit' | 'bank' | 'config' | 'logger' | 'store' | 'views'>;

export function federationCallbackRoutes(services: Deps): Router {
  const router = new Router();

  router.get('/federation/callback', async (ctx) => {
    const pending = await pendingBank(services, ctx, false);
    if (!pending) {
      // Logged, not audited: anyone can send these, and an audit row each would grow the store.
      services.logger.warn({ ip: ctx.ip, event: 'federation.callback', reason: 'state' }, 'federation callback without a round trip');
      return showBankProblem(services, ctx, 'state', { href: '/', label: services.views.t(ctx, 'common.home') });
    }
    const next = {
      interaction: `/interaction/${pending.uid}/bank-return`,
      cabinet: '/account/federation/bank-return',
      recovery: '/recover/bank-return',
    }[pending.mode];
    ctx.status = 303;
    ctx.redirect(`${next}?${ctx.querystring}`);
  });

  return router;
}
