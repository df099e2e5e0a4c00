/**
 * Deleting the account from the cabinet (/account/delete): needs a sign-in within 5 minutes (the
 * page says so before the form is filled) and the password when the account has one; an account
 * without one (made through a bank or an e-signature) answers a one-time code sent to its
 * confirmed contact instead (purpose `account-deletion`, its own send budget), and one with
 * neither has only the fresh sign-in and the explicit confirmation. The account
 * is deactivated at once and erased after the grace (src/accounts/account-deletion.ts); the
 * citizen's contacts are told how to cancel (sign in before the date).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { fullName } from '../accounts/accounts.ts';
import { confirmedContacts, maskContact, type Contact } from '../accounts/contacts.ts';
import { recheckPassword } from '../methods/password.ts';
import type { Services } from '../services.ts';
import type { Account } from '../accounts/account.ts';
import { FlowRecords } from '../web/flow-records.ts';
import { parseForm, text } from '../web/form.ts';
import { isFresh, requireCabinetSession, cabinetBinding, type CabinetSession } from './session.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accountDeletion' | 'accounts' | 'audit' | 'codes' | 'config' | 'csrf' | 'limits' | 'notifier' | 'provider' | 'store' | 'views'
>;

/** The one-time codes' purpose: its own send budget per recipient. */
export const DELETION_CODE_PURPOSE = 'account-deletion';

interface DeletionCode {
  challengeId: string;
  to: Contact;
}

/** A code sent for deleting a password-less account, keyed by the cabinet session. */
const deletionCodes = new FlowRecords<DeletionCode>('delete-code', 900);

/** Where a password-less account's deletion code goes: its confirmed phone, else its confirmed e-mail. */
function codeContact(account: Account): Contact | undefined {
  return account.passwordHash ? undefined : confirmedContacts(account)[0];
}

export function deletionRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/delete' });
  const { views, config } = services;
  const codes = () => deletionCodes.in(services.store);

  const show = async (ctx: Context, s: CabinetSession, form: { error?: string; status?: number } = {}) => {
    const to = codeContact(s.account);
    const sent = to ? await codes().load(s.uid) : undefined;
    const codeSent = Boolean(sent && sent.to.value === to?.value);
    views.render(
      ctx,
      'account-delete',
      {
        title: 'deletion.title',
        csrf: ctx.state.csrf(cabinetBinding(s)),
        fresh: isFresh(s),
        askPassword: Boolean(s.account.passwordHash),
        askCode: Boolean(to),
        codeTo: to && maskContact(to),
        codeSent,
        // the delete form: with the password, with the code once sent, or only the confirmation
        showForm: !to || codeSent,
        graceDays: config.deletionGraceDays,
        error: form.error,
      },
      form.status ?? 200,
    );
  };

  router.get('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (s) await show(ctx, s);
  });

  // A password-less account: the code to its confirmed contact.
  router.post('/code', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, true);
    if (!s) return;
    const to = codeContact(s.account);
    if (!to) return show(ctx, s, { error: views.t(ctx, 'deletion.no_code'), status: 400 });
    const sent = await services.codes.send({
      purpose: DELETION_CODE_PURPOSE,
      to,
      ip: ctx.ip,
      accountId: s.account.id,
      message: {
        subject: views.t(ctx, 'messages.deletion_code.subject'),
        text: (code) => views.t(ctx, 'messages.deletion_code.text', { code }),
      },
    });
    if (!sent.sent)
      return show(ctx, s, { error: views.t(ctx, 'code.send_limited', { minutes: Math.ceil(sent.retryAfter / 60) }), status: 429 });
    await codes().save(s.uid, { challengeId: sent.challengeId, to });
    ctx.status = 303;
    ctx.redirect('/account/delete');
  });

  router.post('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, true);
    if (!s) return;
    const body = parseForm(ctx, { understand: text(3), password: text(256), code: text(32) });
    if (body.understand !== 'on') return show(ctx, s, { error: views.t(ctx, 'deletion.understand_required'), status: 400 });
    const account = s.account;
    if (account.passwordHash) {
      const attempt = await recheckPassword(services.limits, account, body.password, ctx.ip);
      if (!attempt.ok) {
        await services.audit.record({
          type: 'account.deletion_requested',
          accountId: account.id,
          actor: 'self',
          ip: ctx.ip,
          outcome: 'failure',
          details: { reason: attempt.locked ? 'locked' : 'wrong_password' },
        });
        const error = attempt.locked
          ? views.t(ctx, 'login.locked', { minutes: Math.ceil(attempt.retryAfter / 60) })
          : views.t(ctx, 'deletion.wrong_password');
        return show(ctx, s, { error, status: attempt.locked ? 429 : 401 });
      }
    } else {
      const to = codeContact(account);
      if (to) {
        const sent = await codes().load(s.uid);
        if (!sent || sent.to.value !== to.value) return show(ctx, s, { error: views.t(ctx, 'deletion.code_first'), status: 400 });
        const outcome = await services.codes.verify({
          challengeId: sent.challengeId,
          purpose: DELETION_CODE_PURPOSE,
          recipient: to.value,
          code: body.code,
          ip: ctx.ip,
        });
        if (outcome !== 'ok') {
          await services.audit.record({
            type: 'account.deletion_requested',
            accountId: account.id,
            actor: 'self',
            ip: ctx.ip,
            outcome: 'failure',
            details: { reason: `code_${outcome}` },
          });
          return show(ctx, s, {
            error: views.t(ctx, `code.${outcome}`),
            status: outcome === 'wrong' ? 400 : outcome === 'limited' ? 429 : 410,
          });
        }
        await codes().discard(s.uid);
      }
      // Neither a password nor a confirmed contact: the fresh sign-in and the confirmation are all there is.
    }
    const deleted = await services.accountDeletion.request(account.id, { actor: 'self', ip: ctx.ip });
    if (!deleted) return show(ctx, s, { error: views.t(ctx, 'deletion.gone'), status: 409 });
    const date = services.views.date(ctx, deleted.deletion!.eraseAfter);
    const message = {
      subject: views.t(ctx, 'messages.deletion.subject'),
      text: views.t(ctx, 'messages.deletion.text', { name: fullName(account.name), date }),
    };
    for (const contact of confirmedContacts(account)) await services.notifier.send(contact, message).catch(() => undefined);
    views.render(ctx, 'done', { title: 'deletion.done_title', message: views.t(ctx, 'deletion.done', { date }) });
  });

  return router;
}
