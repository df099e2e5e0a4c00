/**
 * ESIA's logout, `/idp/ext/Logout?client_id=…&redirect_url=…`: ends the citizen's vkhod session
 * (single sign-on) at once, as ESIA does — no confirmation page — and sends the browser back to
 * `redirect_url`, which must be one the client registered (a redirect or logout URI). Tokens
 * already issued live on until they expire or are revoked, as at ESIA.
 */
import Router from '@koa/router';
import type { Services } from '../services.ts';
import { UserError } from '../web/errors.ts';

export function esiaLogoutRoutes(services: Services): Router {
  const router = new Router();
  router.get('/idp/ext/Logout', async (ctx) => {
    const clientId = typeof ctx.query.client_id === 'string' ? ctx.query.client_id : '';
    const redirectUrl = typeof ctx.query.redirect_url === 'string' ? ctx.query.redirect_url : '';
    const client = services.esiaClients.get(clientId);
    if (!client) throw new UserError(400, 'esia.errors.unknown_client');
    if (redirectUrl && ![...client.redirectUris, ...client.logoutRedirectUris].includes(redirectUrl))
      throw new UserError(400, 'esia.errors.bad_redirect_uri');
    const session = await services.provider.Session.get(ctx as never);
    if (session.accountId) {
      services.logger.info({ client: clientId }, 'esia logout');
      await services.audit.record({
        type: 'logout',
        accountId: session.accountId,
        clientId,
        ip: ctx.ip,
        outcome: 'success',
        details: { esia: true },
      });
    }
    await session.destroy();
    ctx.cookies.set('vkhod.session', null);
    ctx.cookies.set('vkhod.session.sig', null);
    if (redirectUrl) return ctx.redirect(redirectUrl);
    ctx.redirect('/logout/stayed');
  });
  return router;
}
