/**
 * Deleting the account from the cabinet (/account/delete): needs a sign-in within 5 minutes (the
 * page says so before the form is filled) and the password when the account has one. The account
 * is deactivated at once and erased after the grace (src/accounts/account-deletion.ts); the
 * citizen's contacts are told how to cancel (sign in before the date).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { fullName } from '../accounts/accounts.ts';
import { verifyPassword } from '../accounts/password-hash.ts';
import { confirmedContacts } from '../accounts/contacts.ts';
import type { Services } from '../services.ts';
import { isFresh, requireCabinetSession, cabinetBinding, type CabinetSession } from './session.ts';

export function deletionRoutes(services: Services): Router {
  const router = new Router({ prefix: '/account/delete' });
  const { views, config } = services;

  const show = (ctx: Context, s: CabinetSession, form: { error?: string; status?: number } = {}) =>
    views.render(
      ctx,
      'account-delete',
      {
        title: 'deletion.title',
        csrf: ctx.state.csrf(cabinetBinding(s)),
        fresh: isFresh(s),
        askPassword: Boolean(s.account.passwordHash),
        graceDays: config.deletionGraceDays,
        error: form.error,
      },
      form.status ?? 200,
    );

  router.get('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (s) show(ctx, s);
  });

  router.post('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, true);
    if (!s) return;
    const body = ctx.request.body as Record<string, unknown>;
    if (body.understand !== 'on') return show(ctx, s, { error: views.t(ctx, 'deletion.understand_required'), status: 400 });
    const account = s.account;
    if (account.passwordHash) {
      const password = typeof body.password === 'string' ? body.password.slice(0, 256) : '';
      const hash = account.passwordHash;
      const attempt = await services.limits.accountAttempt(account.id, ctx.ip, async () => Boolean(password) && verifyPassword(hash, password));
      if (!attempt.ok) {
        await services.audit.record({ type: 'account.deletion_requested', accountId: account.id, actor: 'self', ip: ctx.ip, outcome: 'failure', details: { reason: attempt.locked ? 'locked' : 'wrong_password' } });
        const error = attempt.locked ? views.t(ctx, 'login.locked', { minutes: Math.ceil(attempt.retryAfter / 60) }) : views.t(ctx, 'deletion.wrong_password');
        return show(ctx, s, { error, status: attempt.locked ? 429 : 401 });
      }
    }
    const deleted = await services.accountDeletion.request(account.id, { actor: 'self', ip: ctx.ip });
    if (!deleted) return show(ctx, s, { error: views.t(ctx, 'deletion.gone'), status: 409 });
    const date = services.views.date(ctx, deleted.deletion!.eraseAfter);
    const message = { subject: views.t(ctx, 'messages.deletion.subject'), text: views.t(ctx, 'messages.deletion.text', { name: fullName(account.name), date }) };
    for (const contact of confirmedContacts(account)) await services.notifier.send(contact, message).catch(() => undefined);
    views.render(ctx, 'done', { title: 'deletion.done_title', message: views.t(ctx, 'deletion.done', { date }) });
  });

  return router;
}
