/**
 * The routes of an interaction (/interaction/:uid): node-oidc-provider sends the browser here
 * when it needs a sign-in or consent; registration and recovery can run inside it and return.
 */
import Router from '@koa/router';
import type { Services } from '../../services.ts';
import { UserError } from '../../web/errors.ts';
import { showConsent, submitConsent } from './consent.ts';
import type { ContactFlow } from '../contact/contact-flow.ts';
import { finishInteraction, loadInteraction } from './context.ts';
import { showLogin, submitLogin } from '../sign-in/login.ts';
import { bankLinkRoutes } from '../federation/bank-link.ts';
import { bankSignInRoutes } from '../federation/bank-sign-in.ts';
import { enrolmentRoutes } from '../sign-in/enrolment.ts';
import { esignLinkRoutes } from '../federation/esign-link.ts';
import { esignSignInRoutes } from '../federation/esign-sign-in.ts';
import { upgradeRoutes } from '../sign-in/upgrade.ts';
import { pendingSignIns } from '../sign-in/pending-sign-in.ts';
import { restoreRoutes } from '../sign-in/deletion-restore.ts';
import { resumeWelcome } from '../contact/registration-welcome.ts';
import { secondFactorRoutes } from '../sign-in/second-factor.ts';
import { qrSignInRoutes } from '../sign-in/qr-sign-in.ts';
import { advance } from '../sign-in/advance.ts';
import { showUnmet } from '../sign-in/sign-in-result.ts';
import { parseForm, raw, text } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accountDeletion'
  | 'accounts'
  | 'audit'
  | 'bank'
  | 'codes'
  | 'config'
  | 'csrf'
  | 'esignature'
  | 'factorChanges'
  | 'factors'
  | 'levels'
  | 'limits'
  | 'notices'
  | 'notifier'
  | 'password'
  | 'provider'
  | 'store'
  | 'views'
  | 'webauthn'
>;

export function interactionRoutes(services: Deps, flows: ContactFlow[]): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const { provider, csrf } = services;

  router.get('/', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    if (details.prompt.name === 'login' && (await resumeWelcome(services, ctx, details))) return;
    if (details.prompt.name === 'login') return showLogin(services, ctx, details);
    if (details.prompt.name === 'consent') return showConsent(services, ctx, details);
    throw new UserError(400, 'errors.bad_request');
  });

  router.post('/login', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    csrf.verify(ctx, details.uid);
    if (details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_step');
    await submitLogin(services, ctx, details);
  });

  router.post('/consent', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    csrf.verify(ctx, details.uid);
    if (details.prompt.name !== 'consent') throw new UserError(400, 'errors.interaction_step');
    await submitConsent(services, ctx, details);
  });

  router.get('/unmet', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    const pending = await pendingSignIns.in(services.store).load(details.uid);
    showUnmet(services, ctx, details, pending ? await services.accounts.findActive(pending.accountId) : undefined);
  });

  /** "Войти с ключом доступа": a discoverable passkey, no identifier typed. */
  router.post('/webauthn/options', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    csrf.verify(ctx, details.uid);
    ctx.body = await services.webauthn.authenticationOptions(`interaction:${details.uid}`);
  });

  router.post('/webauthn', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    csrf.verify(ctx, details.uid);
    if (details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_step');
    const body = parseForm(ctx, { handle: text(), response: raw() });
    const result = await services.webauthn.authenticate(`interaction:${details.uid}`, String(body.handle ?? ''), body.response as never);
    if (!result.ok) {
      await services.audit.record({
        type: 'signin.passkey',
        ip: ctx.ip,
        outcome: 'failure',
        clientId: String(details.params.client_id),
        details: { reason: result.reason },
      });
      ctx.status = 400;
      ctx.body = { error: services.views.t(ctx, `webauthn.errors.${result.reason}`) };
      return;
    }
    const signIn = { account: result.account, amr: result.amr, remember: true, method: 'passkey' };
    await advance(services, ctx, details, signIn, { mode: 'json' });
  });

  /** The citizen gives up (cancel on sign-in, or a requirement that cannot be met). */
  router.post('/abort', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    csrf.verify(ctx, details.uid);
    const unmet = parseForm(ctx, { reason: text() }).reason === 'unmet';
    await finishInteraction(
      provider,
      ctx,
      unmet
        ? { error: 'unmet_authentication_requirements', error_description: 'the account or this sign-in does not meet the requested acr' }
        : { error: 'access_denied', error_description: 'the citizen cancelled the sign-in' },
    );
  });

  for (const flow of flows) router.use(flow.routes().routes());
  router.use(secondFactorRoutes(services).routes());
  router.use(enrolmentRoutes(services).routes());
  router.use(bankSignInRoutes(services).routes());
  router.use(bankLinkRoutes(services).routes());
  router.use(esignSignInRoutes(services).routes());
  router.use(esignLinkRoutes(services).routes());
  router.use(upgradeRoutes(services).routes());
  router.use(restoreRoutes(services).routes());
  router.use(qrSignInRoutes(services).routes());
  return router;
}
