/**
 * Self-registration of a simplified account: mobile or e-mail → code → name + password →
 * account created and signed in (returned to the relying party when it started from one).
 * A contact that already has an account gets a notice instead of a code; the page is the same.
 */
import type { Context } from 'koa';
import { checkName } from '../../accounts/names.ts';
import { checkPassword } from '../../accounts/password-policy.ts';
import { hashPassword } from '../../accounts/password-hash.ts';
import { restorableByOwner } from '../../accounts/accounts.ts';
import type { Services } from '../../services.ts';
import { DuplicateKeyError } from '../../store.ts';
import type { PersonName } from '../../accounts/account.ts';
import { ContactFlow, finishFlow, reopenFlow, type FlowRecord } from './contact-flow.ts';
import { advance } from '../sign-in/advance.ts';
import type { SignIn } from '../sign-in/sign-in-result.ts';
import { welcomeIntoCabinet } from './registration-welcome.ts';
import { flatForm, parseForm } from '../../web/form.ts';
import { UserError } from '../../web/errors.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'bank' | 'codes' | 'config' | 'csrf' | 'esignature' | 'limits' | 'provider' | 'store' | 'views'
>;

const FIELDS = ['family', 'given', 'middle'] as const;

export function registrationFlow(services: Deps): ContactFlow {
  const { views, accounts, config } = services;

  const showFinal = async (
    ctx: Context,
    flow: FlowRecord,
    form: { errors?: string[]; fieldErrors?: Record<string, string>; values?: Record<string, string>; status?: number },
  ) => {
    views.render(
      ctx,
      'register-profile',
      {
        title: 'register.title',
        action: `/${ctx.params.uid ? `interaction/${ctx.params.uid}/` : ''}register/${flow.id}`,
        csrf: ctx.state.csrf(flow.id),
        values: form.values ?? {},
        errors: form.errors,
        fieldErrors: form.fieldErrors ?? {},
        minLength: config.passwordPolicy.minLength,
        consentText: config.pdConsent.text,
      },
      form.status ?? 200,
    );
  };

  /** An account holds the contact, made since the flow began (this flow's, but for a rare race with another registration). */
  const finished = async (flow: FlowRecord) => {
    const account = await accounts.findByKeyOrPendingDeletion(flow.contact);
    return Boolean(account && account.createdAt >= flow.createdAt);
  };

  return new ContactFlow(services, {
    kind: 'register',
    finished,
    async message(ctx, contact) {
      // A contact still held by an account deleted in its grace is taken too: "sign in or recover"
      // is what its owner can do (registering would end in "already taken" after the whole form).
      const existing = await accounts.findByKeyOrPendingDeletion(contact);
      const subject = views.t(ctx, 'messages.register.subject');
      if (existing) {
        const restorable = existing.status === 'active' || restorableByOwner(existing);
        return {
          subject,
          answerable: false,
          text: () => views.t(ctx, restorable ? 'messages.register.exists' : 'messages.account_deleted.text'),
        };
      }
      return { subject, answerable: true, text: (code) => views.t(ctx, 'messages.register.code', { code }) };
    },
    showFinal,
    async submitFinal(ctx, flow, details) {
      const body = parseForm(ctx, flatForm);
      const values = Object.fromEntries(
        FIELDS.map((f) => [f, typeof body[f] === 'string' ? (body[f] as string).slice(0, 200) : '']),
      ) as Record<(typeof FIELDS)[number], string>;
      const fieldErrors: Record<string, string> = {};
      const name: Partial<PersonName> = {};
      for (const field of FIELDS) {
        const checked = checkName(values[field], field !== 'middle');
        if (checked.problem) fieldErrors[field] = views.t(ctx, `names.${checked.problem}`);
        else if (checked.value) name[field] = checked.value;
      }
      const password = typeof body.password === 'string' ? body.password : '';
      const confirm = typeof body.password_confirm === 'string' ? body.password_confirm : '';
      const problems = checkPassword(
        password,
        confirm,
        config.passwordPolicy,
        [flow.contact.value, values.family, values.given].filter(Boolean),
      );
      if (problems.length)
        fieldErrors.password = problems.map((p) => views.t(ctx, `password.${p}`, { min: config.passwordPolicy.minLength })).join(' ');
      // Consent to the processing of personal data (152-FZ art. 9): given, its version and time stored.
      const consented = body.pd_consent === 'on';
      if (!consented) fieldErrors.pd_consent = views.t(ctx, 'register.pd_consent_required');
      if (Object.keys(fieldErrors).length)
        return showFinal(ctx, flow, { fieldErrors, values: { ...values, ...(consented ? { pd_consent: 'on' } : {}) }, status: 400 });

      const passwordHash = await hashPassword(password);
      // One account per proven contact: the flow is spent before the account is written.
      if (!(await finishFlow(services, ctx, flow, () => finished(flow)))) return;
      let account;
      try {
        account = await accounts.register({
          name: name as PersonName,
          contact: flow.contact,
          passwordHash,
          ip: ctx.ip,
          clientId: details ? String(details.params.client_id) : undefined,
          pdConsentVersion: config.pdConsent.version,
        });
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) {
          await reopenFlow(services, flow);
          throw err;
        }
        // Registered by someone else since the code was typed (the flow is spent: no form to send
        // again). Only someone who just proved control of the contact sees this.
        throw new UserError(409, 'register.contact_taken');
      }
      if (details) {
        // As after a password sign-in: a deployment that requires a second factor (or a relying
        // party asking for one) gets it now. The code just typed proved the contact, which
        // enrolment of a factor would otherwise ask for first.
        const signIn: SignIn = { account, amr: ['pwd'], remember: true, method: 'registration' };
        await advance(services, ctx, details, signIn, { contactProven: flow.contact.kind === 'phone' ? 'sms' : 'otp' });
        return;
      }
      // Outside a relying party: signed in, in the cabinet (through the cabinet's own sign-in).
      await welcomeIntoCabinet(services, ctx, account, flow.contact.kind);
    },
  });
}
