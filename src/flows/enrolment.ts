/**
 * Enrolment of a second factor inside a sign-in (/interaction/:uid/mfa/enrol): when the
 * deployment requires one, or a relying party asks for a two-factor sign-in from an account that
 * has none. The first proof of the new factor (a TOTP code, an SMS code, a new passkey) completes
 * the sign-in; the citizen may instead go back to the service (it then gets the OIDC error).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { maskContact } from '../accounts/contacts.ts';
import { availableFactors, hasEnrolledFactor } from '../methods/second-factor.ts';
import type { Services } from '../services.ts';
import type { Account, SecondFactorKind } from '../store.ts';
import { UserError } from '../web/errors.ts';
import type { InteractionDetails } from './interaction-context.ts';
import { failSecondFactor, finishSecondFactor } from './second-factor.ts';
import { loadPending, savePending, type PendingSignIn } from './pending-sign-in.ts';

const TOTP_CONTEXT = 'enrol-totp';

/**
 * The pending sign-in, when it is one that has to enrol a factor now (the `enrol` of nextStep).
 * An account that already has a factor is asked for it on /mfa: enrolling another one here
 * would let someone who knows only the password skip it.
 */
async function loadEnrolment(services: Services, ctx: Context) {
  const loaded = await loadPending(services, ctx);
  const { account } = loaded;
  const mustEnrol = (services.config.requireSecondFactor && !hasEnrolledFactor(account)) || availableFactors(account).length === 0;
  if (!mustEnrol) throw new UserError(400, 'errors.interaction_step');
  return loaded;
}

async function showEnrol(services: Services, ctx: Context, details: InteractionDetails, pending: PendingSignIn, account: Account, form: { error?: string; status?: number } = {}): Promise<void> {
  const { box, totp, views } = services;
  if (!pending.enrolSecret) {
    const { secret } = await totp.start(account.phone ?? account.email ?? account.id);
    pending.enrolSecret = box.encrypt(secret, `${TOTP_CONTEXT}:${details.uid}`);
    await savePending(services, details.uid, pending);
  }
  const enrolment = await totp.describe(box.decrypt(pending.enrolSecret, `${TOTP_CONTEXT}:${details.uid}`), account.phone ?? account.email ?? account.id);
  views.render(
    ctx,
    'enrol',
    {
      title: 'enrol.title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      qr: enrolment.qr,
      secret: enrolment.secret.replace(/(.{4})/g, '$1 ').trim(),
      phone: account.phone && account.phoneVerified ? maskContact({ kind: 'phone', value: account.phone }) : undefined,
      smsSent: Boolean(pending.enrolChallengeId),
      mandatory: services.config.requireSecondFactor,
      error: form.error,
    },
    form.status ?? 200,
  );
}

/** Turns on sign-in with confirmation with `preferred` and the factor `mutate` adds. */
async function enable(services: Services, ctx: Context, account: Account, preferred: SecondFactorKind, mutate: (a: Account) => Account, change: 'totp_added' | 'sms_enabled' | 'passkey_added'): Promise<void> {
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

export function enrolmentRoutes(services: Services): Router {
  const router = new Router({ prefix: '/mfa/enrol' });
  const { csrf, views, box, totp } = services;

  router.get('/', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    await showEnrol(services, ctx, details, pending, account);
  });

  router.post('/totp', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    if (!pending.enrolSecret) throw new UserError(400, 'errors.interaction_step');
    const secret = box.decrypt(pending.enrolSecret, `${TOTP_CONTEXT}:${details.uid}`);
    const step = await totp.check(secret, String((ctx.request.body as Record<string, unknown>).code ?? '').slice(0, 32));
    if (step === undefined) {
      const failure = await failSecondFactor(services, ctx, account, { ok: false, reason: 'invalid' }, 'totp-enrol');
      return showEnrol(services, ctx, details, pending, account, failure);
    }
    const now = new Date().toISOString();
    await enable(services, ctx, account, 'totp', (a) => ({ ...a, totp: { sealedSecret: totp.seal(secret, a.id), createdAt: now, lastTimeStep: step } }), 'totp_added');
    await finishSecondFactor(services, ctx, details, pending, account, ['otp'], 'totp-enrol');
  });

  router.post('/sms/send', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    const sent = await services.sms.start(account, ctx.ip, { subject: views.t(ctx, 'messages.mfa.subject'), text: (code) => views.t(ctx, 'messages.mfa.code', { code }) }).catch(() => undefined);
    if (!sent?.challengeId) {
      const error = sent?.retryAfter ? views.t(ctx, 'code.send_limited', { minutes: Math.ceil(sent.retryAfter / 60) }) : views.t(ctx, 'code.delivery_failed');
      return showEnrol(services, ctx, details, pending, account, { error, status: sent?.retryAfter ? 429 : 503 });
    }
    pending.enrolChallengeId = sent.challengeId;
    await savePending(services, details.uid, pending);
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}/mfa/enrol#sms`);
  });

  router.post('/sms', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    if (!pending.enrolChallengeId) throw new UserError(400, 'errors.interaction_step');
    const result = await services.sms.verify(account, pending.enrolChallengeId, String((ctx.request.body as Record<string, unknown>).code ?? '').slice(0, 32), ctx);
    if (!result.ok) {
      const failure = await failSecondFactor(services, ctx, account, result, 'sms-enrol');
      return showEnrol(services, ctx, details, pending, account, failure);
    }
    await enable(services, ctx, account, 'sms', (a) => a, 'sms_enabled');
    await finishSecondFactor(services, ctx, details, pending, account, ['sms'], 'sms-enrol');
  });

  router.post('/webauthn/options', async (ctx) => {
    const { details, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    ctx.body = await services.webauthn.registrationOptions(account, `interaction:${details.uid}`);
  });

  router.post('/webauthn', async (ctx) => {
    const { details, pending, account } = await loadEnrolment(services, ctx);
    csrf.verify(ctx, details.uid);
    const body = ctx.request.body as Record<string, unknown>;
    const registered = await services.webauthn.register(account, `interaction:${details.uid}`, String(body.handle ?? ''), body.response as never, String(body.name ?? ''));
    if (!registered) {
      ctx.status = 400;
      ctx.body = { error: views.t(ctx, 'webauthn.errors.register') };
      return;
    }
    await enable(services, ctx, account, 'webauthn', (a) => ({ ...a, passkeys: [...(a.passkeys ?? []), registered.passkey] }), 'passkey_added');
    await finishSecondFactor(services, ctx, details, pending, account, registered.amr, 'webauthn-enrol', 'json');
  });

  return router;
}
