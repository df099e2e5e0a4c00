/**
 * The sign-in page of an interaction: identifier + password, with the same answer for an unknown
 * login and a wrong password, lockout after repeated failures, and — for a session that already
 * satisfies a newly requested acr — a silent re-issue without asking again.
 */
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import { offerRestore } from './deletion-restore.ts';
import { signInAlternatives } from '../federation/federated-sign-in.ts';
import { clientOf, type InteractionDetails } from '../interaction/context.ts';
import { advance } from './advance.ts';
import type { SignIn } from './sign-in-result.ts';
import { parseForm, text } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  | 'accountDeletion'
  | 'accounts'
  | 'audit'
  | 'bank'
  | 'config'
  | 'csrf'
  | 'esignature'
  | 'levels'
  | 'limits'
  | 'notices'
  | 'notifier'
  | 'password'
  | 'provider'
  | 'store'
  | 'views'
>;

/** Interaction reasons that only say the session's acr is not the one asked for. */
const ACR_REASONS = new Set(['acr_not_satisfied', 'essential_acr', 'essential_acrs']);

export async function showLogin(
  services: Deps,
  ctx: Context,
  details: InteractionDetails,
  form: { identifier?: string; error?: string; status?: number } = {},
): Promise<void> {
  // A session asked for more than it has: re-issue it silently when it already satisfies the
  // request, or ask only for what is missing (step-up) instead of the whole sign-in again.
  // Only when the acr is all that is missing: prompt=login, max_age or a hint for another
  // subject ask for a new sign-in.
  const { reasons } = details.prompt;
  if (!form.error && details.session?.accountId && reasons.includes('acr_not_satisfied') && reasons.every((r) => ACR_REASONS.has(r))) {
    const account = await services.accounts.findActive(details.session.accountId);
    if (account) {
      const amr = (details.session.amr as string[] | undefined) ?? [];
      const session = await services.provider.Session.findByUid(String(details.session.uid));
      const signIn: SignIn = { account, amr, remember: !session?.transient, ts: session?.loginTs, method: 'session' };
      return void (await advance(services, ctx, details, signIn));
    }
  }
  const { clientName } = await clientOf(services.provider, details);
  const notice = services.views.notice(ctx, 'login');
  services.views.render(
    ctx,
    'login',
    {
      title: 'login.title',
      uid: details.uid,
      clientName,
      csrf: ctx.state.csrf(details.uid),
      identifier: form.identifier ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint.slice(0, 256) : ''),
      error: form.error,
      notice,
      reauth: Boolean(details.session?.accountId),
      federation: signInAlternatives(services, ctx),
    },
    form.status ?? 200,
  );
}

export async function submitLogin(services: Deps, ctx: Context, details: InteractionDetails): Promise<void> {
  const body = parseForm(ctx, { identifier: text(), password: text(), foreign: text() });
  const identifier = typeof body.identifier === 'string' ? body.identifier.slice(0, 256) : '';
  const password = typeof body.password === 'string' ? body.password : '';
  const result = await services.password.verify({ identifier, password, ip: ctx.ip, clientId: String(details.params.client_id) });
  if (!result.ok && result.reason === 'deactivated') return offerRestore(services, ctx, details, result.account, body.foreign !== 'on');
  if (!result.ok) {
    const error =
      result.reason === 'malformed'
        ? services.views.t(ctx, `login.problems.${result.problem}`)
        : result.reason === 'locked'
          ? services.views.t(ctx, 'login.locked', { minutes: Math.ceil(result.retryAfter / 60) })
          : services.views.t(ctx, 'login.invalid');
    const status = result.reason === 'locked' ? 429 : result.reason === 'invalid' ? 401 : 400;
    await showLogin(services, ctx, details, { identifier, error, status });
    return;
  }
  const signIn: SignIn = { account: result.account, amr: result.amr, remember: body.foreign !== 'on', method: 'password' };
  // No second factor to ask: the password alone proved the citizen, so earlier failures are
  // forgotten (with a second factor to come, its success clears them).
  await advance(services, ctx, details, signIn, { forgetFailures: true });
}
