/**
 * Password recovery: mobile or e-mail → code → new password. Every session and refresh token of
 * the account is revoked, and the citizen is told on their contact. A contact with no account
 * gets a notice instead of a code; the pages look the same either way.
 */
import type { Context } from 'koa';
import { fullName, restorableByOwner } from '../../accounts/accounts.ts';
import { checkPassword, personalWords } from '../../accounts/password-policy.ts';
import { hashPassword } from '../../accounts/password-hash.ts';
import type { Services } from '../../services.ts';
import type { Account } from '../../store.ts';
import { bankLabel } from '../../federation/linking.ts';
import { liftLockoutAfterRecovery } from './recovered-password.ts';
import { RECOVER_BANK_BINDING } from './recovery-bank.ts';
import { ContactFlow, finishFlow, reopenFlow, type FlowRecord } from './contact-flow.ts';
import { parseForm, text } from '../../web/form.ts';

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
  | 'levels'
  | 'limits'
  | 'logger'
  | 'notices'
  | 'notifier'
  | 'provider'
  | 'store'
  | 'views'
>;

export function recoveryFlow(services: Deps): ContactFlow {
  const { views, accounts, config } = services;

  const showFinal = async (ctx: Context, flow: FlowRecord, form: { errors?: string[]; status?: number }) => {
    views.render(
      ctx,
      'recover-password',
      {
        title: 'recover.title',
        action: `/${ctx.params.uid ? `interaction/${ctx.params.uid}/` : ''}recover/${flow.id}`,
        csrf: ctx.state.csrf(flow.id),
        errors: form.errors,
        minLength: config.passwordPolicy.minLength,
      },
      form.status ?? 200,
    );
  };

  /**
   * The account a proven contact recovers: an active one, or one deleted but still in its grace —
   * its owner gets the password back, and signing in with it offers to restore the account.
   */
  const recoverable = (holder: Account | undefined): Account | undefined =>
    holder && (holder.status === 'active' || restorableByOwner(holder)) ? holder : undefined;

  /** The contact's account got a new password by recovery since the flow began. */
  const finished = async (flow: FlowRecord) => {
    const account = await accounts.findByKeyOrPendingDeletion(flow.contact);
    const events = account ? await services.store.audit.listForAccount(account.id, 50) : [];
    return events.some((e) => e.type === 'account.password_recovered' && e.outcome === 'success' && e.at >= flow.createdAt);
  };

  return new ContactFlow(services, {
    kind: 'recover',
    finished,
    async message(ctx, contact) {
      const holder = await accounts.findByKeyOrPendingDeletion(contact);
      const subject = views.t(ctx, 'messages.recover.subject');
      if (!recoverable(holder)) {
        // Held by an account deleted that its owner cannot restore (an operator deleted it, or its
        // grace is over): neither "register" nor a code would help.
        return {
          subject,
          answerable: false,
          text: () => views.t(ctx, holder ? 'messages.account_deleted.text' : 'messages.recover.unknown'),
        };
      }
      return { subject, answerable: true, text: (code) => views.t(ctx, 'messages.recover.code', { code }) };
    },
    showFinal,
    // Without the phone or e-mail (recover.ways): the nearest step first.
    contactPage: (ctx) => {
      const banks = services.bank.list().map((b) => ({ id: b.id, label: bankLabel(services, ctx, b) }));
      return {
        ways: {
          esign: services.esignature.enabled,
          banks: banks.length ? banks : undefined,
          bankCsrf: banks.length ? ctx.state.csrf(RECOVER_BANK_BINDING) : undefined,
        },
      };
    },
    async submitFinal(ctx, flow, details) {
      const body = parseForm(ctx, { password: text(), password_confirm: text() });
      const account = recoverable(await accounts.findByKeyOrPendingDeletion(flow.contact));
      // The code was answerable, so the account existed; it may have been removed since.
      if (!account) return showFinal(ctx, flow, { errors: [views.t(ctx, 'recover.account_gone')], status: 410 });
      const password = typeof body.password === 'string' ? body.password : '';
      const confirm = typeof body.password_confirm === 'string' ? body.password_confirm : '';
      const problems = checkPassword(password, confirm, config.passwordPolicy, [flow.contact.value, ...personalWords(account)]);
      if (problems.length)
        return showFinal(ctx, flow, {
          errors: problems.map((p) => views.t(ctx, `password.${p}`, { min: config.passwordPolicy.minLength })),
          status: 400,
        });

      // One new password per proven contact: the flow is spent before the change, so parallel
      // submissions cannot each change the password (and each tell the citizen so).
      const hash = await hashPassword(password);
      if (!(await finishFlow(services, ctx, flow, () => finished(flow)))) return;
      await accounts
        .replacePassword(account.id, hash, {
          type: 'account.password_recovered',
          actor: 'self',
          ip: ctx.ip,
          outcome: 'success',
          details: { contact: flow.contact.kind },
        })
        .catch(async (err: unknown) => {
          await reopenFlow(services, flow);
          throw err;
        });
      // Whoever proved the contact may sign in again — unless a second factor is still to be
      // guessed: then the lockout's count stays (recovered-password.ts).
      await liftLockoutAfterRecovery(services, account, [flow.contact.kind === 'phone' ? 'sms' : 'otp']);
      await services.notifier
        .send(flow.contact, {
          subject: views.t(ctx, 'messages.password_changed.subject'),
          text: views.t(ctx, 'messages.password_changed.text', { name: fullName(account.name) }),
        })
        .catch(() => undefined);
      if (details) {
        ctx.status = 303;
        ctx.redirect(`/interaction/${details.uid}?notice=password_changed`);
        return;
      }
      views.render(ctx, 'done', { title: 'recover.done_title', message: views.t(ctx, 'recover.done') });
    },
  });
}
