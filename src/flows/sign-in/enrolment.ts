/**
 * Enrolment of a second factor inside a sign-in (/interaction/:uid/mfa/enrol): when the
 * deployment requires one, or a relying party asks for a two-factor sign-in from an account that
 * has none. A factor the citizen sets up here is their own choice and proves nothing about them
 * (someone who knows only the password could add theirs), so first a one-time code goes to a
 * confirmed contact of the account — the mobile, or the e-mail for accounts without one — and
 * that code is the second factor of this sign-in (amr `sms` or `otp`). Then the new factor (an
 * authenticator app, a passkey, or SMS codes to the mobile just proven) is stored for the sign-ins
 * that follow, and the sign-in completes. An account with no confirmed contact cannot enrol here.
 * The citizen may instead go back to the service (it then gets the OIDC error).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { maskContact, type Contact } from '../../accounts/contacts.ts';
import type { VerifyOutcome } from '../../methods/one-time-code.ts';
import type { EnrolmentView } from '../../methods/factors/factor.ts';
import { availableFactors, hasEnrolledFactor, type SecondFactorResult } from '../../methods/second-factor.ts';
import { DeliveryError } from '../../notify/notifier.ts';
import type { Services } from '../../services.ts';
import type { Account, SecondFactorKind } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import type { InteractionDetails } from '../interaction/context.ts';
import { failSecondFactor, finishSecondFactor } from './second-factor.ts';
import { loadPending, savePending, type PendingSignIn } from './pending-sign-in.ts';
import { parseForm, raw, text } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accounts'
  | 'audit'
  | 'bank'
  | 'codes'
  | 'config'
  | 'csrf'
  | 'esignature'
  | 'factorChanges'
  | 'factors'
  | 'limits'
  | 'provider'
  | 'store'
  | 'views'
  | 'webauthn'
>;

/** The authenticator app's secret is sealed to the interaction that began it. */
const totpBinding = (uid: string) => `enrol-totp:${uid}`;
export const ENROL_CONTACT_PURPOSE = 'mfa-enrol';

/** Where the code before enrolment goes: the confirmed mobile, else the confirmed e-mail. */
function proofContact(account: Account): { contact: Contact; amr: 'sms' | 'otp' } | undefined {
  if (account.phone && account.phoneVerified) return { contact: { kind: 'phone', value: account.phone }, amr: 'sms' };
  if (account.email && account.emailVerified) return { contact: { kind: 'email', value: account.email }, amr: 'otp' };
  return undefined;
}

/** The contact proof of this sign-in, which every enrolment step needs. */
function provenContact(pending: PendingSignIn): 'sms' | 'otp' {
  if (!pending.contactProven) throw new UserError(400, 'errors.interaction_step');
  return pending.contactProven;
}

function codeFailure(outcome: Exclude<VerifyOutcome, 'ok'>): Exclude<SecondFactorResult, { ok: true }> {
  return { ok: false, reason: outcome === 'wrong' || outcome === 'unknown' ? 'invalid' : outcome };
}

/**
 * The pending sign-in, when it is one that has to enrol a factor now (the `enrol` step of advance).
 * An account that already has a factor is asked for it on /mfa: enrolling another one here
 * would let someone who knows only the password skip it.
 */
async function loadEnrolment(services: Deps, ctx: Context) {
  const loaded = await loadPending(services, ctx);
  const { account } = loaded;
  const mustEnrol = (services.config.requireSecondFactor && !hasEnrolledFactor(account)) || availableFactors(account).length === 0;
  if (!mustEnrol) throw new UserError(400, 'errors.interaction_step');
  return loaded;
}

async function showEnrol(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  pending: PendingSignIn,
  account: Account,
  form: { error?: string; status?: number } = {},
): Promise<void> {
  const { views } = services;
  const app = services.factors.secretEnrolment;
  const proof = proofContact(account);
  const proven = pending.contactProven;
  // The factors are offered once the contact is proven; the TOTP seed is made only then.
  let enrolment: EnrolmentView | undefined;
  if (proven) {
    if (!pending.enrolSecret) {
      const begun = await app.begin(account, totpBinding(details.uid));
      pending.enrolSecret = begun.sealed;
      await savePending(services, details.uid, pending);
      enrolment = begun.view;
    } else {
      enrolment = await app.view(account, pending.enrolSecret, totpBinding(details.uid));
    }
  }
  const noContact = !proven && !proof;
  views.render(
    ctx,
    'enrol',
    {
      title: 'enrol.title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      proven: Boolean(proven),
      noContact,
      contactTo: proof ? maskContact(proof.contact) : undefined,
      contactSms: proof?.amr === 'sms',
      contactSent: Boolean(pending.contactChallengeId),
      qr: enrolment?.qr,
      secret: enrolment?.secret,
      // SMS codes as the factor: offered when this sign-in has just proven the mobile.
      phone: proven === 'sms' && account.phone && account.phoneVerified ? maskContact({ kind: 'phone', value: account.phone }) : undefined,
      mandatory: services.config.requireSecondFactor,
      error: form.error,
    },
    form.status ?? (noContact ? 403 : 200),
  );
}

/** Turns on sign-in with confirmation with `preferred` and the factor `mutate` adds. */
async function enable(
  services: Deps,
  ctx: Context,
  account: Account,
  preferred: SecondFactorKind,
  mutate: (a: Account) => Account,
  change: 'totp_added' | 'sms_enabled' | 'passkey_added',
): Promise<void> {
  const { views } = services;
  await services.factorChanges.apply({
    accountId: account.id,
    change,
    ip: ctx.ip,
    details: { during: 'sign-in' },
    mutate: (a) => ({ ...mutate(a), mfa: { enabled: true, preferred } }),
    message: { subject: views.t(ctx, 'messages.factor.subject'), text: views.t(ctx, `messages.factor.${change}`) },
  });
}

export function enrolmentRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/mfa/enrol' });
  const { csrf, views } = services;

  router.get('/', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    await showEnrol(services, ctx, details, pending, account);
  });

  router.post('/contact/send', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    const proof = proofContact(account);
    if (pending.contactProven || !proof) throw new UserError(400, 'errors.interaction_step');
    let error: string | undefined;
    let status = 200;
    try {
      const sent = await services.codes.send({
        purpose: ENROL_CONTACT_PURPOSE,
        to: proof.contact,
        ip: ctx.ip,
        accountId: account.id,
        message: { subject: views.t(ctx, 'messages.enrol.subject'), text: (code) => views.t(ctx, 'messages.enrol.code', { code }) },
      });
      if (sent.sent) pending.contactChallengeId = sent.challengeId;
      else [error, status] = [views.t(ctx, 'code.send_limited', { minutes: Math.ceil(sent.retryAfter / 60) }), 429];
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      [error, status] = [views.t(ctx, 'code.delivery_failed'), 503];
    }
    if (error) return showEnrol(services, ctx, details, pending, account, { error, status });
    await savePending(services, details.uid, pending);
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}/mfa/enrol#contact`);
  });

  router.post('/contact', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    const proof = proofContact(account);
    if (pending.contactProven || !proof || !pending.contactChallengeId) throw new UserError(400, 'errors.interaction_step');
    // A locked account stays locked whatever code is typed (as on /mfa/verify).
    const lock = await services.limits.peek('login-failures-account', `account:${account.id}`);
    if (lock.blocked)
      return showEnrol(services, ctx, details, pending, account, {
        error: views.t(ctx, 'login.locked', { minutes: Math.ceil(lock.retryAfter / 60) }),
        status: 429,
      });
    const code = parseForm(ctx, { code: text(32) }).code;
    const outcome = await services.codes.verify({
      challengeId: pending.contactChallengeId,
      purpose: ENROL_CONTACT_PURPOSE,
      recipient: proof.contact.value,
      code,
      ip: ctx.ip,
    });
    if (outcome !== 'ok') {
      const failure = await failSecondFactor(services, ctx, account, codeFailure(outcome), 'contact-enrol');
      return showEnrol(services, ctx, details, pending, account, failure);
    }
    pending.contactProven = proof.amr;
    delete pending.contactChallengeId;
    await savePending(services, details.uid, pending);
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}/mfa/enrol`);
  });

  router.post('/totp', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    const proven = provenContact(pending);
    if (!pending.enrolSecret) throw new UserError(400, 'errors.interaction_step');
    const code = parseForm(ctx, { code: text(32) }).code;
    const setUp = await services.factors.secretEnrolment.confirm(pending.enrolSecret, totpBinding(details.uid), code);
    if (!setUp) {
      const failure = await failSecondFactor(services, ctx, account, { ok: false, reason: 'invalid' }, 'totp-enrol');
      return showEnrol(services, ctx, details, pending, account, failure);
    }
    await enable(services, ctx, account, 'totp', setUp, 'totp_added');
    await finishSecondFactor(services, ctx, details, pending, account, [proven], 'totp-enrol');
  });

  /** SMS codes as the factor from now on: the mobile was proven by a code in this sign-in. */
  router.post('/sms', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    if (provenContact(pending) !== 'sms' || !account.phone || !account.phoneVerified) throw new UserError(400, 'errors.interaction_step');
    await enable(services, ctx, account, 'sms', (a) => a, 'sms_enabled');
    await finishSecondFactor(services, ctx, details, pending, account, ['sms'], 'sms-enrol');
  });

  router.post('/webauthn/options', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    provenContact(pending);
    ctx.body = await services.factors.get('webauthn')!.enrol!(account, `interaction:${details.uid}`);
  });

  router.post('/webauthn', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    const proven = provenContact(pending);
    const body = parseForm(ctx, { handle: text(), response: raw(), name: text() });
    const registered = await services.webauthn.register(
      account,
      `interaction:${details.uid}`,
      String(body.handle ?? ''),
      body.response as never,
      String(body.name ?? ''),
    );
    if (!registered) {
      ctx.status = 400;
      ctx.body = { error: views.t(ctx, 'webauthn.errors.register') };
      return;
    }
    await enable(
      services,
      ctx,
      account,
      'webauthn',
      (a) => ({ ...a, passkeys: [...(a.passkeys ?? []), registered.passkey] }),
      'passkey_added',
    );
    // The new passkey counts from the next sign-in; this one was made with the contact code.
    await finishSecondFactor(services, ctx, details, pending, account, [proven], 'webauthn-enrol', 'json');
  });

  return router;
}
