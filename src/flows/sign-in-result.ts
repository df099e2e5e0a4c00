/**
 * The end of every sign-in step: what this sign-in still needs (a second factor, enrolment of
 * one, or nothing), which acr it earns for what the relying party asked, the audit event, and
 * the login result for node-oidc-provider — or the page that explains why it cannot be met.
 */
import type { Context } from 'koa';
import type { Config } from '../../config/load.ts';
import { chooseAcr, isMultiFactor, requestedAcrs, satisfiedAcrs } from '../oidc/acr.ts';
import { availableFactors, hasEnrolledFactor } from '../methods/second-factor.ts';
import type { Services } from '../services.ts';
import type { Account } from '../store.ts';
import type { InteractionDetails } from './interaction-context.ts';
import { savePending } from './pending-sign-in.ts';

export interface SignIn {
  account: Account;
  amr: string[];
  /** false for "someone else's computer": the session ends with the browser. */
  remember: boolean;
  /** The original authentication time when re-issuing an existing session with another acr. */
  ts?: number;
  method: string;
}

export type SignInStep = 'complete' | 'second_factor' | 'enrol' | 'unmet';

/**
 * What a sign-in with `amr` still needs. A second factor is asked when the citizen turned on
 * sign-in with confirmation, when the deployment requires one, when the relying party asks for an
 * `-mfa` acr that a second factor would meet, or when the session being renewed had two factors
 * (no silent downgrade). A request no second factor can meet (a passkey without user
 * verification is possession already: another possession factor does not make two kinds) goes
 * straight to the explanation.
 */
export function nextStep(config: Config, details: InteractionDetails, account: Account, amr: string[]): SignInStep {
  const requested = requestedAcrs(details.params);
  const now = chooseAcr(requested, satisfiedAcrs(account.level, amr));
  if (!isMultiFactor(amr)) {
    // What this sign-in would satisfy with one more factor (any kind: they all count the same).
    const withFactor = chooseAcr(requested, satisfiedAcrs(account.level, [...amr, 'otp']));
    const renewingMfaSession = details.session?.accountId === account.id && isMultiFactor((details.session.amr as string[] | undefined) ?? []);
    const wanted = account.mfa?.enabled || config.requireSecondFactor || (!now && Boolean(withFactor)) || renewingMfaSession;
    if (wanted) {
      if (config.requireSecondFactor && !hasEnrolledFactor(account)) return 'enrol';
      return availableFactors(account).length ? 'second_factor' : 'enrol';
    }
  }
  return now ? 'complete' : 'unmet';
}

/** The explanation page for a requirement this sign-in cannot meet. */
export function showUnmet(services: Services, ctx: Context, details: InteractionDetails, account?: Account): void {
  const requested = requestedAcrs(details.params);
  const needsLevel = Boolean(account) && !requested.some((a) => satisfiedAcrs(account!.level, ['pwd', 'otp']).includes(a));
  // Standard is reachable inside the flow (registry check); confirmed needs a visit or a letter.
  const canUpgradeHere = needsLevel && account!.level === 'simplified' && requested.some((a) => satisfiedAcrs('standard', ['pwd', 'otp']).includes(a));
  services.views.render(
    ctx,
    'unmet',
    {
      title: 'unmet.title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      requested: requested.map((a) => services.views.t(ctx, `acr.${a.split(':').pop()}`)),
      needsLevel,
      canUpgradeHere,
    },
    403,
  );
}

/**
 * Finishes the interaction with a login when the sign-in meets what was asked. `json` answers
 * `{ redirect }` for script-driven steps (WebAuthn) instead of redirecting.
 */
export async function completeSignIn(services: Services, ctx: Context, details: InteractionDetails, signIn: SignIn, mode: 'html' | 'json' = 'html'): Promise<boolean> {
  const requested = requestedAcrs(details.params);
  const acr = chooseAcr(requested, satisfiedAcrs(signIn.account.level, signIn.amr));
  const clientId = String(details.params.client_id);
  if (!acr) {
    await services.audit.record({ type: 'signin', accountId: signIn.account.id, clientId, ip: ctx.ip, outcome: 'failure', details: { reason: 'acr_unmet', requested, method: signIn.method } });
    // Keep what was proven: the citizen may raise the level in this flow and continue.
    await savePending(services, details.uid, { accountId: signIn.account.id, amr: signIn.amr, remember: signIn.remember, method: signIn.method, unmet: true, authTime: signIn.ts ?? Math.floor(Date.now() / 1000), ...(signIn.ts ? { ts: signIn.ts } : {}) });
    if (mode === 'json') ctx.body = { redirect: `/interaction/${details.uid}/unmet` };
    else showUnmet(services, ctx, details, signIn.account);
    return false;
  }
  await services.audit.record({ type: 'signin', accountId: signIn.account.id, clientId, ip: ctx.ip, outcome: 'success', details: { method: signIn.method, amr: signIn.amr, acr, ua: ctx.get('user-agent').slice(0, 200) } });
  const returnTo = await services.provider.interactionResult(ctx.req, ctx.res, {
    login: { accountId: signIn.account.id, acr, amr: signIn.amr, remember: signIn.remember, ...(signIn.ts ? { ts: signIn.ts } : {}) },
  }, { mergeWithLastSubmission: true });
  if (mode === 'json') {
    ctx.body = { redirect: returnTo };
  } else {
    ctx.status = 303;
    ctx.redirect(returnTo);
  }
  return true;
}
