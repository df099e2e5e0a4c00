/**
 * Changing the password in the cabinet (/account/password): the current password and a new one
 * under the same policy (also refusing the citizen's name or contacts in Latin transliteration,
 * and the current password itself). Every other session and every token of the account end; the
 * confirmed contacts are told. An account without a password (created through a bank or an
 * e-signature) sets its first one after a fresh sign-in and a code sent to a confirmed contact.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { fullName } from '../accounts/accounts.ts';
import { hashPassword, verifyPassword } from '../accounts/password-hash.ts';
import { checkPassword, personalWords } from '../accounts/password-policy.ts';
import { confirmedContacts, maskContact } from '../accounts/contacts.ts';
import { DeliveryError } from '../notify/notifier.ts';
import type { Services } from '../services.ts';
import { FlowRecords } from '../web/flow-records.ts';
import { parseForm, text } from '../web/form.ts';
import { endOtherSessions } from './devices.ts';
import { cabinetBinding, isFresh, requireCabinetSession, type CabinetSession } from './session.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'codes' | 'config' | 'csrf' | 'limits' | 'logger' | 'notifier' | 'provider' | 'store' | 'views'
>;

const FIRST_PURPOSE = 'first-password';

/** A first password's code, sent to a confirmed contact and waiting (per cabinet session). */
export const firstPasswordCodes = new FlowRecords<{ challengeId: string; recipient: string }>('first-password', 900);

export function passwordRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/password' });
  const { views, config } = services;
  const codes = () => firstPasswordCodes.in(services.store);

  async function show(ctx: Context, s: CabinetSession, errors: string[] = [], status = 200) {
    const contact = confirmedContacts(s.account)[0];
    const pending = !s.account.passwordHash && (await codes().load(s.uid));
    views.render(
      ctx,
      'password',
      {
        contact: contact ? maskContact(contact) : undefined,
        codeSent: Boolean(pending),
        title: 'password_change.title',
        csrf: ctx.state.csrf(cabinetBinding(s)),
        hasPassword: Boolean(s.account.passwordHash),
        fresh: isFresh(s),
        errors,
        minLength: config.passwordPolicy.minLength,
        notice: views.notice(ctx, 'password_change'),
      },
      status,
    );
  }

  router.get('/', async (ctx) => {
    // A first password (no current one to prove) needs a fresh sign-in, as any change of how one signs in.
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    await show(ctx, s);
  });

  /** A first password: the code to a confirmed contact. */
  router.post('/code', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, true);
    if (!s) return;
    if (s.account.passwordHash) return show(ctx, s, [views.t(ctx, 'password_change.has_password')], 409);
    const to = confirmedContacts(s.account)[0];
    if (!to) return show(ctx, s, [views.t(ctx, 'password_change.no_contact')], 409);
    try {
      const sent = await services.codes.send({
        purpose: FIRST_PURPOSE,
        to,
        ip: ctx.ip,
        accountId: s.account.id,
        message: {
          subject: views.t(ctx, 'messages.first_password.subject'),
          text: (code) => views.t(ctx, 'messages.first_password.code', { code }),
        },
      });
      if (!sent.sent) return show(ctx, s, [views.t(ctx, 'code.send_limited', { minutes: Math.ceil(sent.retryAfter / 60) })], 429);
      await codes().save(s.uid, { challengeId: sent.challengeId, recipient: to.value });
    } catch (err) {
      if (err instanceof DeliveryError) return show(ctx, s, [views.t(ctx, 'code.delivery_failed')], 503);
      throw err;
    }
    ctx.status = 303;
    ctx.redirect('/account/password?notice=code_sent');
  });

  router.post('/', async (ctx) => {
    const first = await requireCabinetSession(services, ctx, false);
    if (!first) return;
    // Without a current password to prove, the change needs a fresh sign-in instead.
    const s = first.account.passwordHash ? first : await requireCabinetSession(services, ctx, true);
    if (!s) return;
    const body = parseForm(ctx, { current: text(256), password: text(), password_confirm: text(), code: text(32) });
    const { current, password, password_confirm: confirm } = body;
    const a = s.account;
    const pending = a.passwordHash ? undefined : await codes().load(s.uid);
    if (!a.passwordHash && !pending) return show(ctx, s, [views.t(ctx, 'password_change.code_first')], 400);
    if (a.passwordHash) {
      // A wrong current password counts as a wrong sign-in: the same per-account lockout, the
      // attempt reserved before the check (parallel guesses cannot all be checked).
      const hash = a.passwordHash;
      const attempt = await services.limits.attempt(
        { accountId: a.id },
        ctx.ip,
        async () => Boolean(current) && verifyPassword(hash, current),
        (ok) => ok,
      );
      if (attempt.checked && !attempt.result)
        await services.audit.record({
          type: 'account.password_changed',
          accountId: a.id,
          actor: 'self',
          ip: ctx.ip,
          outcome: 'failure',
          details: { reason: 'wrong_current' },
        });
      if (!attempt.checked || !attempt.result)
        return show(
          ctx,
          s,
          [views.t(ctx, attempt.locked ? 'password_change.too_many' : 'password_change.wrong_current')],
          attempt.locked ? 429 : 400,
        );
    }
    const problems = checkPassword(password, confirm, config.passwordPolicy, personalWords(a));
    if (problems.length)
      return show(
        ctx,
        s,
        problems.map((p) => views.t(ctx, `password.${p}`, { min: config.passwordPolicy.minLength })),
        400,
      );
    if (a.passwordHash && (await verifyPassword(a.passwordHash, password)))
      return show(ctx, s, [views.t(ctx, 'password_change.same')], 400);
    if (pending) {
      // The code last: a password the policy refuses does not spend it.
      const outcome = await services.codes.verify({
        challengeId: pending.challengeId,
        purpose: FIRST_PURPOSE,
        recipient: pending.recipient,
        code: body.code,
        ip: ctx.ip,
      });
      if (outcome !== 'ok') return show(ctx, s, [views.t(ctx, `code.${outcome}`)], outcome === 'limited' ? 429 : 400);
      await codes().discard(s.uid);
    }
    const passwordHash = await hashPassword(password);
    await services.accounts.modify(a.id, (x) => ({ ...x, passwordHash, sessionsValidAfter: new Date().toISOString() }), {
      type: a.passwordHash ? 'account.password_changed' : 'account.password_set',
      actor: 'self',
      ip: ctx.ip,
      outcome: 'success',
    });
    await endOtherSessions(services, a.id, s.uid, true);
    const message = {
      subject: views.t(ctx, 'messages.password_changed.subject'),
      text: views.t(ctx, 'messages.password_changed.text', { name: fullName(a.name) }),
    };
    for (const to of confirmedContacts(a)) await services.notifier.send(to, message).catch(() => undefined);
    ctx.status = 303;
    ctx.redirect(`/account/password?notice=${a.passwordHash ? 'changed' : 'set'}`);
  });

  return router;
}
