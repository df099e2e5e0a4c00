/**
 * The end of every successful sign-in: which acr this sign-in earns for what the relying party
 * asked, the audit event, and the login result for node-oidc-provider.
 */
import type { Context } from 'koa';
import { chooseAcr, requestedAcrs, satisfiedAcrs } from '../oidc/acr.ts';
import type { Services } from '../services.ts';
import type { Account } from '../store.ts';
import { finishInteraction, type InteractionDetails } from './interaction-context.ts';

export interface SignIn {
  account: Account;
  amr: string[];
  /** false for "someone else's computer": the session ends with the browser. */
  remember: boolean;
  /** The original authentication time when re-issuing an existing session with another acr. */
  ts?: number;
  method: string;
}

/**
 * Finishes the interaction with a login, or — when the relying party demanded an acr this
 * sign-in cannot give — shows the page that explains why and returns false.
 */
export async function completeSignIn(services: Services, ctx: Context, details: InteractionDetails, signIn: SignIn): Promise<boolean> {
  const requested = requestedAcrs(details.params);
  const acr = chooseAcr(requested, satisfiedAcrs(signIn.account.level, signIn.amr));
  const clientId = String(details.params.client_id);
  if (!acr) {
    await services.audit.record({ type: 'signin', accountId: signIn.account.id, clientId, ip: ctx.ip, outcome: 'failure', details: { reason: 'acr_unmet', requested, method: signIn.method } });
    services.views.render(ctx, 'unmet', {
      title: 'unmet.title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      requested: requested.map((a) => services.views.t(ctx, `acr.${a.split(':').pop()}`)),
    }, 403);
    return false;
  }
  await services.audit.record({ type: 'signin', accountId: signIn.account.id, clientId, ip: ctx.ip, outcome: 'success', details: { method: signIn.method, amr: signIn.amr, acr } });
  await finishInteraction(services.provider, ctx, {
    login: { accountId: signIn.account.id, acr, amr: signIn.amr, remember: signIn.remember, ...(signIn.ts ? { ts: signIn.ts } : {}) },
  });
  return true;
}
