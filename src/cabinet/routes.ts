/**
 * The citizen's cabinet (/account): who they are, their contacts and level, and the security
 * settings. Signed in through vkhod's own session (see session.ts).
 */
import Router from '@koa/router';
import { formatPhone } from '../accounts/contacts.ts';
import { formatSnils } from '../accounts/snils.ts';
import { fullName } from '../accounts/accounts.ts';
import type { Services } from '../services.ts';
import { UserError } from '../web/errors.ts';
import { contactsRoutes } from './contacts.ts';
import { deletionRoutes } from './deletion.ts';
import { identityRoutes } from './identity.ts';
import { securityRoutes } from './security.ts';
import { connectedServicesRoutes } from './connected-services.ts';
import { historyRoutes } from './history.ts';
import { qrApprovalRoutes } from './qr-approval.ts';
import { passwordRoutes } from './password.ts';
import { sessionsRoutes } from './sessions.ts';
import { cabinetSession, CABINET_CLIENT_ID, finishCabinetSignIn, localPath, loginHintOf, startCabinetSignIn } from './session.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accountDeletion'
  | 'accounts'
  | 'audit'
  | 'codes'
  | 'config'
  | 'csrf'
  | 'factorChanges'
  | 'factors'
  | 'levels'
  | 'limits'
  | 'logger'
  | 'notifier'
  | 'postal'
  | 'provider'
  | 'recoveryCodes'
  | 'store'
  | 'views'
  | 'webauthn'
>;

export function cabinetRoutes(services: Deps): Router {
  const router = new Router();
  const { views, config } = services;

  router.get('/account', async (ctx) => {
    const s = await cabinetSession(services, ctx);
    if (!s) return startCabinetSignIn(services, ctx, '/account', false);
    const a = s.account;
    views.render(ctx, 'account', {
      title: 'account.title',
      name: fullName(a.name),
      phone: a.phone ? formatPhone(a.phone) : undefined,
      phoneVerified: a.phoneVerified,
      email: a.email,
      emailVerified: a.emailVerified,
      noContact: !(a.phone && a.phoneVerified) && !(a.email && a.emailVerified),
      snils: a.snils ? formatSnils(a.snils) : undefined,
      level: views.t(ctx, `levels.${a.level}`),
      mfaEnabled: Boolean(a.mfa?.enabled),
      csrf: ctx.state.csrf(`cabinet:${s.uid}`),
    });
  });

  /** Asks for a fresh sign-in, then returns to the page that needed it. */
  router.get('/account/reauth', async (ctx) => {
    const s = await cabinetSession(services, ctx);
    startCabinetSignIn(services, ctx, localPath(ctx.query.return), true, s && loginHintOf(s.account));
  });

  router.get('/account/callback', (ctx) => {
    // "Cancel" on the sign-in page: the citizen chose not to sign in — back home, not an error page.
    if (ctx.query.error === 'access_denied') return ctx.redirect('/');
    if (typeof ctx.query.error === 'string') throw new UserError(400, 'cabinet.signin_failed');
    const next = finishCabinetSignIn(services, ctx);
    if (!next) throw new UserError(400, 'cabinet.signin_failed');
    ctx.redirect(next);
  });

  router.get('/account/logout', (ctx) => {
    const params = new URLSearchParams({ client_id: CABINET_CLIENT_ID, post_logout_redirect_uri: `${config.issuer}/` });
    ctx.redirect(`/session/end?${params}`);
  });

  router.use(securityRoutes(services).routes());
  router.use(contactsRoutes(services).routes());
  router.use(identityRoutes(services).routes());
  router.use(deletionRoutes(services).routes());
  for (const r of [passwordRoutes, sessionsRoutes, historyRoutes, connectedServicesRoutes]) router.use(r(services).routes());
  router.use(qrApprovalRoutes(services).routes());
  return router;
}
