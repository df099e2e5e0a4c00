/**
 * The sign-in page of an interaction: identifier + password, with the same answer for an unknown
 * login and a wrong password, lockout after repeated failures, and — for a session that already
 * satisfies a newly requested acr — a silent re-issue without asking again.
 */
import type { Context } from 'koa';
import { satisfiedAcrs, requestedAcrs } from '../oidc/acr.ts';
import type { Services } from '../services.ts';
import { clientOf, type InteractionDetails } from './interaction-context.ts';
import { completeSignIn } from './sign-in-result.ts';

const NOTICES = new Set(['password_changed']);

export async function showLogin(services: Services, ctx: Context, details: InteractionDetails, form: { identifier?: string; error?: string; status?: number } = {}): Promise<void> {
  // A session that already has what the relying party now asks for needs no new sign-in.
  if (!form.error && details.session?.accountId && details.prompt.reasons.includes('acr_not_satisfied') && !details.prompt.reasons.includes('max_age')) {
    const account = await services.accounts.findActive(details.session.accountId);
    const amr = (details.session.amr as string[] | undefined) ?? [];
    const requested = requestedAcrs(details.params);
    if (account && satisfiedAcrs(account.level, amr).some((a) => requested.includes(a))) {
      const session = await services.provider.Session.findByUid(String(details.session.uid));
      await completeSignIn(services, ctx, details, { account, amr, remember: !session?.transient, ts: session?.loginTs, method: 'session' });
      return;
    }
  }
  const { clientName } = await clientOf(services.provider, details);
  const notice = typeof ctx.query.notice === 'string' && NOTICES.has(ctx.query.notice) ? `notices.${ctx.query.notice}` : undefined;
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
    },
    form.status ?? 200,
  );
}

export async function submitLogin(services: Services, ctx: Context, details: InteractionDetails): Promise<void> {
  const body = ctx.request.body as Record<string, unknown>;
  const identifier = typeof body.identifier === 'string' ? body.identifier.slice(0, 256) : '';
  const password = typeof body.password === 'string' ? body.password : '';
  const result = await services.password.verify({ identifier, password, ip: ctx.ip, clientId: String(details.params.client_id) });
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
  await completeSignIn(services, ctx, details, { account: result.account, amr: result.amr, remember: body.foreign !== 'on', method: 'password' });
}
