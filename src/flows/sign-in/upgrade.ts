/**
 * Raising the level inside a sign-in (/interaction/:uid/upgrade): a relying party asked for a
 * standard account, the citizen's is simplified. They enter SNILS and passport here, the registry
 * checks them, and the sign-in continues as soon as the account is standard — or the citizen goes
 * back to the service, which then gets unmet_authentication_requirements.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { checkIdentitySubmission, type IdentitySubmission } from '../../accounts/identity.ts';
import { LevelError, Levels, RECENT_SIGN_IN_SECONDS, type LevelDrop } from '../../accounts/levels.ts';
import { recheckPassword } from '../../methods/password.ts';
import { chooseAcr, requestedAcrs, satisfiableWith } from '../../oidc/acr.ts';
import type { Services } from '../../services.ts';
import { DuplicateKeyError } from '../../store.ts';
import type { Account } from '../../accounts/account.ts';
import { UserError } from '../../web/errors.ts';
import { identityFormModel } from '../../web/identity-form.ts';
import type { InteractionDetails } from '../interaction/context.ts';
import { loadPending, savePending, type PendingSignIn } from './pending-sign-in.ts';
import { advance } from './advance.ts';
import { flatForm, parseForm } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<
  Services,
  'accounts' | 'audit' | 'bank' | 'config' | 'csrf' | 'esignature' | 'levels' | 'limits' | 'provider' | 'store' | 'views'
>;

export function upgradeRoutes(services: Deps): Router {
  // Mounted inside the interaction router (prefix /interaction/:uid).
  const router = new Router({ prefix: '/upgrade' });
  const { views, csrf, levels } = services;

  function show(
    ctx: Context,
    details: InteractionDetails,
    account: Account,
    form: { submission?: IdentitySubmission; error?: string; status?: number; levelDrop?: LevelDrop; askPassword?: boolean } = {},
  ) {
    views.render(
      ctx,
      'upgrade',
      {
        title: 'upgrade.title',
        uid: details.uid,
        csrf: ctx.state.csrf(details.uid),
        action: `/interaction/${details.uid}/upgrade`,
        form: identityFormModel(views, ctx, account, form.submission, { levelDrop: form.levelDrop, askPassword: form.askPassword }),
        error: form.error,
      },
      form.status ?? 200,
    );
  }

  /**
   * The pending sign-in, when it is one waiting for the level (completeSignIn's "unmet"): a sign-in
   * still owing its second factor or enrolment must not finish, or change the account, here.
   */
  async function loadUpgrade(ctx: Context) {
    const loaded = await loadPending(services, ctx);
    if (!loaded.pending.unmet) throw new UserError(400, 'errors.interaction_step');
    return loaded;
  }

  /** Continues the sign-in if the account now meets the request; otherwise shows the status. */
  async function status(ctx: Context, details: InteractionDetails, pending: PendingSignIn, account: Account) {
    const fresh = await levels.refresh(account);
    const signIn = {
      account: fresh,
      amr: pending.amr,
      remember: pending.remember,
      method: `${pending.method}+upgrade`,
      ...(pending.ts ? { ts: pending.ts } : {}),
    };
    // The level is there now: finish, or ask for the second factor the request or the account needs.
    const requested = requestedAcrs(details.params);
    // (When the level is there but no second factor can make this sign-in meet the request,
    // advance says so.)
    if (chooseAcr(requested, satisfiableWith(fresh.level)))
      return void (await advance(services, ctx, details, signIn, { discardPendingOnComplete: true }));
    const check = fresh.registryCheck;
    views.render(ctx, 'upgrade-status', {
      title: 'upgrade.title',
      uid: details.uid,
      csrf: ctx.state.csrf(details.uid),
      pending: check?.status === 'pending',
      rejected: check?.status === 'rejected',
      reason: check?.reason ? views.t(ctx, `identity.registry_reasons.${check.reason}`) : undefined,
      notice: views.notice(ctx, 'upgrade'),
    });
  }

  /** The same rule as the cabinet: identity data changes only within minutes of proving who one is. */
  const isRecent = (pending: PendingSignIn) =>
    pending.authTime !== undefined && Date.now() / 1000 - pending.authTime <= RECENT_SIGN_IN_SECONDS;

  router.get('/', async (ctx) => {
    const { details, pending, account } = await loadUpgrade(ctx);
    show(ctx, details, account, { askPassword: !isRecent(pending) && Boolean(account.passwordHash) });
  });

  router.post('/', async (ctx) => {
    const { details, pending, account } = await loadUpgrade(ctx);
    csrf.verify(ctx, details.uid);
    const body = parseForm(ctx, flatForm);
    const submission = checkIdentitySubmission(body);
    const recent = isRecent(pending);
    if (Object.keys(submission.errors).length)
      return show(ctx, details, account, { submission, status: 400, askPassword: !recent && Boolean(account.passwordHash) });
    // A sign-in that is not recent (a session re-used for this request) proves nothing about who
    // types now: the password again first, as the cabinet asks for a fresh sign-in.
    if (!recent) {
      if (!account.passwordHash)
        return show(ctx, details, account, { submission, error: views.t(ctx, 'upgrade.reauth_no_password'), status: 403 });
      const password = typeof body.current_password === 'string' ? body.current_password.slice(0, 256) : '';
      const attempt = await recheckPassword(services.limits, account, password, ctx.ip);
      if (!attempt.ok) {
        await services.audit.record({
          type: 'identity.reauth',
          accountId: account.id,
          ip: ctx.ip,
          outcome: 'failure',
          details: { where: 'upgrade' },
        });
        const error = attempt.locked
          ? views.t(ctx, 'login.locked', { minutes: Math.ceil(attempt.retryAfter / 60) })
          : views.t(ctx, password ? 'identity.reauth_wrong' : 'identity.reauth_lead');
        return show(ctx, details, account, { submission, error, status: attempt.locked ? 429 : 401, askPassword: true });
      }
      await savePending(services, details.uid, { ...pending, authTime: Math.floor(Date.now() / 1000) });
    }
    const input = { snils: submission.snils, identity: submission.identity, name: submission.name, ip: ctx.ip };
    // A change that lowers the level is said before it is saved: what it drops to and why.
    const drop = Levels.levelDrop(account, input);
    if (drop && body.accept_level_drop !== drop.to) return show(ctx, details, account, { submission, levelDrop: drop, status: 409 });
    let saved: Account;
    try {
      saved = await levels.saveIdentity(account.id, input);
      if (saved.level === 'simplified') saved = await levels.requestStandard(account.id, ctx.ip);
    } catch (err) {
      if (err instanceof DuplicateKeyError)
        return show(ctx, details, account, {
          submission,
          error: views.t(ctx, err.key?.kind === 'passport' ? 'identity.taken.passport' : 'identity.taken.snils'),
          status: 409,
        });
      if (err instanceof LevelError && err.code === 'pending') return status(ctx, details, pending, account);
      if (err instanceof LevelError)
        return show(ctx, details, account, { submission, error: views.t(ctx, `identity.level_errors.${err.code}`), status: 409 });
      throw err;
    }
    ctx.status = 303;
    ctx.redirect(`/interaction/${details.uid}/upgrade/status${drop ? `?notice=dropped_${drop.to}` : ''}`);
  });

  router.get('/status', async (ctx) => {
    const { details, pending, account } = await loadUpgrade(ctx);
    await status(ctx, details, pending, account);
  });

  return router;
}
