/**
 * The routes of an interaction (/interaction/:uid): node-oidc-provider sends the browser here
 * when it needs a sign-in or consent; registration and recovery can run inside it and return.
 */
import Router from '@koa/router';
import type { Services } from '../services.ts';
import { UserError } from '../web/errors.ts';
import { showConsent, submitConsent } from './consent.ts';
import type { ContactFlow } from './contact-flow.ts';
import { finishInteraction, loadInteraction } from './interaction-context.ts';
import { showLogin, submitLogin } from './login.ts';

export function interactionRoutes(services: Services, flows: ContactFlow[]): Router {
  const router = new Router({ prefix: '/interaction/:uid' });
  const { provider, csrf } = services;

  router.get('/', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
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

  /** The citizen gives up (cancel on sign-in, or a requirement that cannot be met). */
  router.post('/abort', async (ctx) => {
    const details = await loadInteraction(provider, ctx);
    csrf.verify(ctx, details.uid);
    const unmet = (ctx.request.body as Record<string, unknown>).reason === 'unmet';
    await finishInteraction(provider, ctx, unmet
      ? { error: 'unmet_authentication_requirements', error_description: 'the account or this sign-in does not meet the requested acr' }
      : { error: 'access_denied', error_description: 'the citizen cancelled the sign-in' });
  });

  for (const flow of flows) router.use(flow.routes().routes());
  return router;
}
