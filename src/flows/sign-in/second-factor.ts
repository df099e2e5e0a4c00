/**
 * The second step of a sign-in (/interaction/:uid/mfa): after a password, or to step up an
 * existing session, the citizen confirms with an authenticator app, an SMS code, a passkey or a
 * recovery code. Wrong answers count towards the account's lockout. The pending sign-in lives in
 * a flow record bound to the interaction.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { maskContact } from '../../accounts/contacts.ts';
import { availableFactors, type SecondFactorResult } from '../../methods/second-factor.ts';
import { combineAmr } from '../../oidc/acr.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import type { InteractionDetails } from '../interaction/context.ts';
import { discardPending, loadPending, savePending, type PendingSignIn } from './pending-sign-in.ts';
import { completeSignIn } from './sign-in-result.ts';
import { parseForm, raw, text } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'bank' | 'csrf' | 'esignature' | 'factors' | 'limits' | 'provider' | 'store' | 'views' | 'webauthn'
>;

/** Finishes with the combined amr once the second factor is proven. */
export async function finishSecondFactor(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  pending: PendingSignIn,
  account: Account,
  second: string[],
  method: string,
  mode: 'html' | 'json' = 'html',
): Promise<void> {
  await discardPending(services, details.uid);
  await services.limits.reset('login-failures-account', `account:${account.id}`);
  await completeSignIn(
    services,
    ctx,
    details,
    { account, amr: combineAmr(pending.amr, second), remember: pending.remember, method: `${pending.method}+${method}` },
    mode,
  );
}

/**
 * Counts a wrong answer (unless `counted`: it was reserved by `limits.attempt` already); returns
 * the message to show (locked or try again).
 */
export async function failSecondFactor(
  services: Deps,
  ctx: Context,
  account: Account,
  result: Exclude<SecondFactorResult, { ok: true }>,
  method: string,
  counted?: { locked: boolean; retryAfter: number },
): Promise<{ error: string; status: number }> {
  const hit = counted
    ? { blocked: counted.locked, retryAfter: counted.retryAfter }
    : await services.limits.hit('login-failures-account', `account:${account.id}`);
  await services.audit.record({
    type: 'signin.second_factor',
    accountId: account.id,
    ip: ctx.ip,
    outcome: 'failure',
    details: { method, reason: result.reason },
  });
  // The failure that reaches the limit locks already (as for passwords), not the one after it.
  const state = hit.blocked || counted ? hit : await services.limits.peek('login-failures-account', `account:${account.id}`);
  if (state.blocked) return { error: services.views.t(ctx, 'login.locked', { minutes: Math.ceil(state.retryAfter / 60) }), status: 429 };
  return { error: services.views.t(ctx, `mfa.errors.${result.reason}`), status: result.reason === 'limited' ? 429 : 400 };
}

/** The factor asked for when this account has it, else its preferred one (recovery codes when it has none). */
function methodOf(services: Deps, account: Account, requested: unknown): string {
  const factor = services.factors.get(requested);
  if (factor?.available(account)) return factor.kind;
  return availableFactors(account)[0] ?? 'recovery';
}

async function showSecondFactor(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  pending: PendingSignIn,
  account: Account,
  form: { method?: string; error?: string; status?: number; sent?: boolean } = {},
): Promise<void> {
  const method = methodOf(services, account, form.method ?? ctx.query.method);
  const others = [
    ...availableFactors(account),
    ...services.factors
      .availableTo(account)
      .filter((f) => !f.standalone)
      .map((f) => f.kind),
  ].filter((m) => m !== method);
  services.views.render(
    ctx,
    'second-factor',
    {
      title: 'mfa.title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      method,
      isTotp: method === 'totp',
      isSms: method === 'sms',
      isWebauthn: method === 'webauthn',
      isRecovery: method === 'recovery',
      smsSent: Boolean(pending.challengeId) || form.sent,
      phone: account.phone ? maskContact({ kind: 'phone', value: account.phone }) : undefined,
      others: others.map((m) => ({ id: m, label: services.views.t(ctx, `mfa.methods.${m}`) })),
      error: form.error,
    },
    form.status ?? 200,
  );
}

export function secondFactorRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/mfa' });
  const { csrf, views } = services;

  router.get('/', async (ctx) => {
    const { details, pending, account } = await loadPending(services, ctx);
    await showSecondFactor(services, ctx, details, pending, account);
  });

  router.post('/sms/send', async (ctx) => {
    const { details, pending, account } = await loadPending(services, ctx);
    csrf.verify(ctx, details.uid);
    const sent = await services.factors.get('sms')!.challenge!(account, ctx.ip, {
      subject: views.t(ctx, 'messages.mfa.subject'),
      text: (code) => views.t(ctx, 'messages.mfa.code', { code }),
    }).catch(() => ({ failed: true }) as const);
    if ('failed' in sent)
      return showSecondFactor(services, ctx, details, pending, account, {
        method: 'sms',
        error: views.t(ctx, 'code.delivery_failed'),
        status: 503,
      });
    if (!sent.challengeId)
      return showSecondFactor(services, ctx, details, pending, account, {
        method: 'sms',
        error: views.t(ctx, 'code.send_limited', { minutes: Math.ceil((sent.retryAfter ?? 60) / 60) }),
        status: 429,
      });
    pending.challengeId = sent.challengeId;
    await savePending(services, details.uid, pending);
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}/mfa?method=sms`);
  });

  router.post('/verify', async (ctx) => {
    const { details, pending, account } = await loadPending(services, ctx);
    csrf.verify(ctx, details.uid);
    const body = parseForm(ctx, { method: text(), code: text() });
    const method = methodOf(services, account, body.method);
    const factor = services.factors.get(method);
    const code = typeof body.code === 'string' ? body.code.slice(0, 32) : '';
    // Reserved against the account's lockout before the code is checked: parallel guesses
    // cannot all be checked against one count.
    const attempt = await services.limits.attempt(
      { accountId: account.id },
      undefined,
      async (): Promise<SecondFactorResult> => {
        if (!code.trim()) return { ok: false, reason: 'invalid' };
        // A passkey answers on /webauthn, with its assertion.
        if (factor?.answer !== 'code') throw new UserError(400, 'errors.bad_request');
        return factor.verify(account, { code, challengeId: pending.challengeId, ip: ctx.ip });
      },
      // A reused authenticator code is the citizen's own right code: not counted as a wrong one.
      (result) => result.ok || (method === 'totp' && result.reason === 'used'),
      { reset: false },
    );
    if (!attempt.checked) throw new UserError(429, 'login.locked', { minutes: Math.ceil(attempt.retryAfter / 60) });
    const result = attempt.result;
    if (result.ok) return finishSecondFactor(services, ctx, details, pending, account, result.amr, result.method);
    const failure = await failSecondFactor(services, ctx, account, result, method, attempt);
    await showSecondFactor(services, ctx, details, pending, account, { method, ...failure });
  });

  router.post('/webauthn/options', async (ctx) => {
    const { details, account } = await loadPending(services, ctx);
    csrf.verify(ctx, details.uid);
    ctx.body = await services.webauthn.authenticationOptions(`interaction:${details.uid}`, account);
  });

  router.post('/webauthn', async (ctx) => {
    const { details, pending, account } = await loadPending(services, ctx);
    csrf.verify(ctx, details.uid);
    const body = parseForm(ctx, { handle: text(), response: raw() });
    // A locked account stays locked whatever factor is presented (as for codes on /verify).
    const lock = await services.limits.peek('login-failures-account', `account:${account.id}`);
    if (lock.blocked) {
      ctx.status = 429;
      ctx.body = { error: views.t(ctx, 'login.locked', { minutes: Math.ceil(lock.retryAfter / 60) }) };
      return;
    }
    const result = await services.factors
      .get('webauthn')!
      .verify(account, { ip: ctx.ip, binding: `interaction:${details.uid}`, handle: String(body.handle ?? ''), response: body.response });
    if (!result.ok) {
      const failure = await failSecondFactor(services, ctx, account, { ok: false, reason: 'invalid' }, 'webauthn');
      ctx.status = failure.status;
      ctx.body = { error: failure.status === 429 ? failure.error : views.t(ctx, `webauthn.errors.${result.detail}`) };
      return;
    }
    await finishSecondFactor(services, ctx, details, pending, account, result.amr, 'webauthn', 'json');
  });

  return router;
}
