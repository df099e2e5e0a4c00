/**
 * The last step of a recovery that proved the person without their phone or e-mail (a qualified
 * e-signature, a bank): the new password under the policy, the single-use record consumed (a
 * second submission finds nothing), every session and token of the account ended
 * (`replacePassword`), the confirmed contacts told — then the cabinet's own sign-in with what was
 * proven, so a second factor is still asked unless the proof was two factors.
 */
import type Router from '@koa/router';
import type { Context } from 'koa';
import { fullName } from '../../accounts/accounts.ts';
import { confirmedContacts } from '../../accounts/contacts.ts';
import { hashPassword } from '../../accounts/password-hash.ts';
import { checkPassword, personalWords } from '../../accounts/password-policy.ts';
import type { Services } from '../../services.ts';
import { UserError } from '../../web/errors.ts';
import type { FlowRecords } from '../../web/flow-records.ts';
import { parseForm, text } from '../../web/form.ts';
import { hasEnrolledFactor } from '../../methods/second-factor.ts';
import { isMultiFactor } from '../../oidc/acr.ts';
import type { Account } from '../../accounts/account.ts';
import { welcomeIntoCabinet } from './registration-welcome.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'bank' | 'config' | 'csrf' | 'esignature' | 'limits' | 'notifier' | 'provider' | 'store' | 'views'
>;

/**
 * A recovery lifts the account's lockout only when it leaves nothing to guess: it proved two
 * factors, or the account has no second factor of its own. Otherwise the count of wrong secrets
 * stays — a recovery by one factor (a code to a contact, a bank) must not reset the budget of
 * guesses at the second factor that follows it.
 */
export async function liftLockoutAfterRecovery(
  services: Pick<Services, 'limits'>,
  account: Account,
  amr: readonly string[],
): Promise<void> {
  if (isMultiFactor(amr) || !hasEnrolledFactor(account)) await services.limits.reset('login-failures-account', `account:${account.id}`);
}

export interface RecoveredPasswordStep<T extends { accountId: string }> {
  /** the router's path of the password page, with `:id` */
  path: string;
  /** the page's address for a record id (the form's action) */
  action: (id: string) => string;
  records: FlowRecords<T>;
  /** audit details of the recovery (how the person was proven) */
  via: (record: T) => Record<string, unknown>;
  /** what the proof counts as at the cabinet's sign-in */
  amr: (record: T) => string[];
}

/** Adds GET and POST `step.path` to `router`: the new-password page of a proven recovery. */
export function recoveredPasswordRoutes<T extends { accountId: string }>(
  services: Deps,
  router: Router,
  step: RecoveredPasswordStep<T>,
): void {
  const { views, config, csrf } = services;
  const records = () => step.records.in(services.store);

  async function load(ctx: Context): Promise<{ id: string; record: T }> {
    const id = String(ctx.params.id ?? '');
    const record = /^[A-Za-z0-9_-]{22}$/.test(id) ? await records().load(id) : undefined;
    if (!record?.accountId) throw new UserError(404, 'recover.flow_expired', { start: '/recover' });
    return { id, record };
  }

  const show = (ctx: Context, id: string, form: { errors?: string[]; status?: number } = {}) =>
    views.render(
      ctx,
      'recover-password',
      {
        title: 'recover.title',
        action: step.action(id),
        csrf: ctx.state.csrf(step.records.id(id)),
        errors: form.errors,
        minLength: config.passwordPolicy.minLength,
      },
      form.status ?? 200,
    );

  router.get(step.path, async (ctx) => {
    const { id } = await load(ctx);
    show(ctx, id);
  });

  router.post(step.path, async (ctx) => {
    const { id, record } = await load(ctx);
    csrf.verify(ctx, step.records.id(id));
    const account = await services.accounts.findActive(record.accountId);
    if (!account) return show(ctx, id, { errors: [views.t(ctx, 'recover.account_gone')], status: 410 });
    const { password, password_confirm: confirm } = parseForm(ctx, { password: text(), password_confirm: text() });
    const problems = checkPassword(password, confirm, config.passwordPolicy, personalWords(account));
    if (problems.length) {
      const errors = problems.map((p) => views.t(ctx, `password.${p}`, { min: config.passwordPolicy.minLength }));
      return show(ctx, id, { errors, status: 400 });
    }
    if (!(await records().consume(id))) throw new UserError(404, 'recover.flow_expired', { start: '/recover' });
    await services.accounts.replacePassword(account.id, await hashPassword(password), {
      type: 'account.password_recovered',
      actor: 'self',
      ip: ctx.ip,
      outcome: 'success',
      details: step.via(record),
    });
    await liftLockoutAfterRecovery(services, account, step.amr(record));
    const message = {
      subject: views.t(ctx, 'messages.password_changed.subject'),
      text: views.t(ctx, 'messages.password_changed.text', { name: fullName(account.name) }),
    };
    for (const contact of confirmedContacts(account)) await services.notifier.send(contact, message).catch(() => undefined);
    await welcomeIntoCabinet(services, ctx, account, undefined, step.amr(record));
  });
}
