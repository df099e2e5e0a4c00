/**
 * The end of every sign-in step: what this sign-in still needs (a second factor, enrolment of
 * one, or nothing), which acr it earns for what the relying party asked, the audit event, and
 * the login result for node-oidc-provider — or the page that explains why it cannot be met.
 */
import type { Context } from 'koa';
import { chooseAcr, requestedAcrs, satisfiableWith, satisfiedAcrs, type Acr } from '../../oidc/acr.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { confirmWays } from './confirm-ways.ts';
import type { InteractionDetails } from '../interaction/context.ts';
import { savePending } from './pending-sign-in.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'bank' | 'esignature' | 'provider' | 'store' | 'views'>;

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

/** The explanation page for a requirement this sign-in cannot meet. */
export function showUnmet(services: Deps, ctx: Context, details: InteractionDetails, account?: Account): void {
  const requested = requestedAcrs(details.params);
  const needsLevel = Boolean(account) && !requested.some((a) => satisfiableWith(account!.level).includes(a));
  // Standard is reachable inside the flow (registry check); confirmed needs a visit or a letter.
  const canUpgradeHere = needsLevel && account!.level === 'simplified' && requested.some((a) => satisfiableWith('standard').includes(a));
  const needsConfirmed = needsLevel && !requested.some((a) => satisfiableWith('standard').includes(a));
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
      confirm: needsConfirmed ? confirmWays(services, ctx) : undefined,
    },
    403,
  );
}

/**
 * Finishes the interaction with a login when the sign-in meets what was asked. `json` answers
 * `{ redirect }` for script-driven steps (WebAuthn) instead of redirecting. `decided`: what
 * advance already worked out for this sign-in (the acr is computed once).
 */
export async function completeSignIn(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  signIn: SignIn,
  mode: 'html' | 'json' = 'html',
  decided?: { requested: Acr[]; acr: Acr | undefined },
): Promise<boolean> {
  const requested = decided?.requested ?? requestedAcrs(details.params);
  const acr = decided ? decided.acr : chooseAcr(requested, satisfiedAcrs(signIn.account.level, signIn.amr));
  const clientId = String(details.params.client_id);
  // Each audit event below is asked for in the same turn as the interaction's write: the embedded
  // store commits both in one transaction and one disk sync (the record never throws; both are
  // stored before the answer, as before).
  if (!acr) {
    await Promise.all([
      services.audit.record({
        type: 'signin',
        accountId: signIn.account.id,
        clientId,
        ip: ctx.ip,
        outcome: 'failure',
        details: { reason: 'acr_unmet', requested, method: signIn.method },
      }),
      // Keep what was proven: the citizen may raise the level in this flow and continue.
      savePending(services, details.uid, {
        accountId: signIn.account.id,
        amr: signIn.amr,
        remember: signIn.remember,
        method: signIn.method,
        unmet: true,
        authTime: signIn.ts ?? Math.floor(Date.now() / 1000),
        ...(signIn.ts ? { ts: signIn.ts } : {}),
      }),
    ]);
    if (mode === 'json') ctx.body = { redirect: `/interaction/${details.uid}/unmet` };
    else showUnmet(services, ctx, details, signIn.account);
    return false;
  }
  const [, returnTo] = await Promise.all([
    services.audit.record({
      type: 'signin',
      accountId: signIn.account.id,
      clientId,
      ip: ctx.ip,
      outcome: 'success',
      details: { method: signIn.method, amr: signIn.amr, acr, ua: ctx.get('user-agent').slice(0, 200) },
    }),
    services.provider.interactionResult(
      ctx.req,
      ctx.res,
      {
        login: { accountId: signIn.account.id, acr, amr: signIn.amr, remember: signIn.remember, ...(signIn.ts ? { ts: signIn.ts } : {}) },
      },
      { mergeWithLastSubmission: true },
    ),
  ]);
  if (mode === 'json') {
    ctx.body = { redirect: returnTo };
  } else {
    ctx.status = 303;
    ctx.redirect(returnTo);
  }
  return true;
}
