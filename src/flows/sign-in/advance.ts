/**
 * What happens after the first factor — one place for every way in (password, passkey, the
 * session being re-issued, registration, bank, e-signature, the level raised inside a sign-in):
 * decide what this sign-in still needs, then finish it, move it to the second step, or explain
 * why it cannot be met. A first factor's exceptions are inputs (`AdvanceOptions`), not copies.
 */
import type { Context } from 'koa';
import type { Config } from '../../../config/load.ts';
import { chooseAcr, isMultiFactor, requestedAcrs, satisfiableWith, satisfiedAcrs, type Acr } from '../../oidc/acr.ts';
import { availableFactors, hasEnrolledFactor } from '../../methods/second-factor.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import type { InteractionDetails } from '../interaction/context.ts';
import { discardPending, savePending, type PendingSignIn } from './pending-sign-in.ts';
import { completeSignIn, type SignIn, type SignInStep } from './sign-in-result.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'bank' | 'config' | 'esignature' | 'limits' | 'provider' | 'store' | 'views'>;

export interface AdvanceOptions {
  /** `json` answers `{ redirect }` for script-driven steps (a passkey) instead of redirecting. */
  mode?: 'html' | 'json';
  /**
   * A confirmed contact of the account proven by a code in this sign-in (registration): enrolment
   * of a factor needs not ask for it again.
   */
  contactProven?: PendingSignIn['contactProven'];
  /**
   * The first factor proved the citizen on its own (a password): unless a second factor is still
   * to come (whose success clears them), earlier failures against the account are forgotten.
   */
  forgetFailures?: boolean;
  /**
   * The citizen's own "sign-in with confirmation" is asked even of a first factor that counts as
   * two (an e-signature linked to the account by its password: the password proves the account).
   */
  ownSecondFactorAlways?: boolean;
  /** The interaction's pending sign-in is discarded once this one completes (it was waiting for the level). */
  discardPendingOnComplete?: boolean;
}

/** The decision, without effects: the step, and what was asked and earned now (computed once). */
export interface Decision {
  step: SignInStep;
  requested: Acr[];
  acr: Acr | undefined;
}

/**
 * What a sign-in with `amr` still needs. A second factor is asked when the citizen turned on
 * sign-in with confirmation, when the deployment requires one, when the relying party asks for an
 * `-mfa` acr that a second factor would meet, or when the session being renewed had two factors
 * (no silent downgrade). A request no second factor can meet (a passkey without user
 * verification is possession already: another possession factor does not make two kinds) goes
 * straight to the explanation.
 */
export function decide(
  config: Pick<Config, 'requireSecondFactor'>,
  details: Pick<InteractionDetails, 'params' | 'session'>,
  account: Account,
  amr: readonly string[],
  options: Pick<AdvanceOptions, 'ownSecondFactorAlways'> = {},
): Decision {
  const requested = requestedAcrs(details.params);
  const acr = chooseAcr(requested, satisfiedAcrs(account.level, amr));
  const secondFactor = (): SignInStep => {
    if (config.requireSecondFactor && !hasEnrolledFactor(account)) return 'enrol';
    return availableFactors(account).length ? 'second_factor' : 'enrol';
  };
  if (options.ownSecondFactorAlways && account.mfa?.enabled) return { step: secondFactor(), requested, acr };
  if (!isMultiFactor(amr)) {
    const withFactor = chooseAcr(requested, satisfiableWith(account.level, amr));
    const renewingMfaSession =
      details.session?.accountId === account.id && isMultiFactor((details.session.amr as string[] | undefined) ?? []);
    const wanted = account.mfa?.enabled || config.requireSecondFactor || (!acr && Boolean(withFactor)) || renewingMfaSession;
    if (wanted) return { step: secondFactor(), requested, acr };
  }
  return { step: acr ? 'complete' : 'unmet', requested, acr };
}

/**
 * Moves a sign-in whose first factor is proven on: finishes it (login result), keeps it pending
 * and explains a requirement it cannot meet (the citizen may raise the level and continue), or
 * keeps it pending for the second step or enrolment of a factor. Returns the step taken.
 */
export async function advance(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  signIn: SignIn,
  options: AdvanceOptions = {},
): Promise<SignInStep> {
  const decision = decide(services.config, details, signIn.account, signIn.amr, options);
  // Asked now and awaited with the step: the reset shares a transaction with the step's first
  // write (the sign-in's audit event, or the pending sign-in) instead of a commit of its own.
  const forgetting =
    options.forgetFailures && decision.step !== 'second_factor'
      ? services.limits.reset('login-failures-account', `account:${signIn.account.id}`)
      : undefined;
  const [step] = await Promise.all([takeStep(services, ctx, details, signIn, options, decision), forgetting]);
  return step;
}

async function takeStep(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  signIn: SignIn,
  options: AdvanceOptions,
  decision: Decision,
): Promise<SignInStep> {
  const { step } = decision;
  if (step === 'second_factor' || step === 'enrol') {
    const { account, amr, remember, method } = signIn;
    await savePending(services, details.uid, {
      accountId: account.id,
      amr,
      remember,
      method,
      ...(options.contactProven ? { contactProven: options.contactProven } : {}),
    });
    const to = `/interaction/${details.uid}/mfa${step === 'enrol' ? '/enrol' : ''}`;
    ctx.status = 303;
    ctx.redirect(to);
    if (options.mode === 'json') {
      ctx.body = { redirect: to };
      ctx.status = 200;
    }
    return step;
  }
  // Unmet too goes through completeSignIn: it keeps the sign-in pending, so the citizen can
  // raise the level from the explanation page (/interaction/:uid/upgrade) and continue.
  if (step === 'complete' && options.discardPendingOnComplete) await discardPending(services, details.uid);
  await completeSignIn(services, ctx, details, signIn, options.mode, decision);
  return step;
}
