/**
 * Personal data and the level in the cabinet (/account/identity): the identity form with the
 * verification status of each item; the registry check (→ standard); confirmation by post and
 * the other ways to confirmed. Saving data or asking for a check needs a fresh sign-in.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { checkIdentitySubmission } from '../accounts/identity.ts';
import { LevelError, Levels, type LevelDrop } from '../accounts/levels.ts';
import { readyForRegistry } from '../accounts/verification.ts';
import { PostalError, postalRequestOutdated } from '../methods/postal-confirmation.ts';
import type { Services } from '../services.ts';
import { DuplicateKeyError } from '../store.ts';
import type { Account } from '../accounts/account.ts';
import { identityFormModel } from '../web/identity-form.ts';
import type { IdentitySubmission } from '../accounts/identity.ts';
import { isFresh, type CabinetSession, requireCabinetSession, cabinetBinding } from './session.ts';
import { flatForm, parseForm, text } from '../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'config' | 'csrf' | 'levels' | 'postal' | 'provider' | 'views'>;

export function identityRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/identity' });
  const { views, levels, postal } = services;
  const binding = cabinetBinding;

  const session = (ctx: Context, fresh: boolean) => requireCabinetSession(services, ctx, fresh);

  function show(
    ctx: Context,
    s: CabinetSession,
    account: Account,
    form: { submission?: IdentitySubmission; error?: string; status?: number; postLocked?: boolean; levelDrop?: LevelDrop } = {},
  ) {
    const check = account.registryCheck;
    const notice = views.notice(ctx, 'identity');
    views.render(
      ctx,
      'identity',
      {
        title: 'identity.title',
        csrf: ctx.state.csrf(binding(s)),
        action: '/account/identity',
        fresh: isFresh(s),
        level: account.level,
        levelLabel: views.t(ctx, `levels.${account.level}`),
        form: identityFormModel(views, ctx, account, form.submission, { levelDrop: form.levelDrop }),
        error: form.error,
        notice,
        registry: check
          ? {
              pending: check.status === 'pending',
              rejected: check.status === 'rejected',
              reason: check.reason ? views.t(ctx, `identity.registry_reasons.${check.reason}`) : undefined,
            }
          : undefined,
        canSubmit: account.level === 'simplified' && readyForRegistry(account) && check?.status !== 'pending',
        isStandard: account.level === 'standard',
        isConfirmed: account.level === 'confirmed',
        hasAddress: Boolean(account.identity?.address),
        postRequested: Boolean(account.postalConfirmation) && !postalRequestOutdated(account),
        postOutdated: postalRequestOutdated(account) && !form.error,
        // Too many wrong postal codes: the page sends the citizen to a service centre instead.
        postLocked: Boolean(form.postLocked),
      },
      form.status ?? 200,
    );
  }

  const done = (ctx: Context, notice: string) => {
    ctx.status = 303;
    ctx.redirect(`/account/identity?notice=${notice}`);
  };

  router.get('/', async (ctx) => {
    const s = await session(ctx, false);
    if (!s) return;
    show(ctx, s, await levels.refresh(s.account), { postLocked: await postal.locked(s.account.id) });
  });

  router.post('/', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    const submission = checkIdentitySubmission(parseForm(ctx, flatForm));
    if (Object.keys(submission.errors).length) return show(ctx, s, s.account, { submission, status: 400 });
    const input = { snils: submission.snils, identity: submission.identity, name: submission.name, ip: ctx.ip };
    // A change that lowers the level is said before it is saved (what it drops to and why), and after.
    const drop = Levels.levelDrop(s.account, input);
    if (drop && parseForm(ctx, { accept_level_drop: text() }).accept_level_drop !== drop.to)
      return show(ctx, s, s.account, { submission, levelDrop: drop, status: 409 });
    try {
      await levels.saveIdentity(s.account.id, input);
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      const field = err.key?.kind === 'passport' ? 'identity.taken.passport' : 'identity.taken.snils';
      return show(ctx, s, s.account, { submission, error: views.t(ctx, field), status: 409 });
    }
    done(ctx, drop ? `saved_dropped_${drop.to}` : 'saved');
  });

  router.post('/verify', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    try {
      const after = await levels.requestStandard(s.account.id, ctx.ip);
      done(ctx, after.level === 'standard' ? 'confirmed' : 'submitted');
    } catch (err) {
      if (err instanceof LevelError)
        return show(ctx, s, s.account, { error: views.t(ctx, `identity.level_errors.${err.code}`), status: 409 });
      throw err;
    }
  });

  router.post('/post', async (ctx) => {
    const s = await session(ctx, true);
    if (!s) return;
    try {
      await postal.request(s.account, ctx.ip);
    } catch (err) {
      if (err instanceof PostalError)
        return show(ctx, s, s.account, {
          error: views.t(ctx, `identity.post_errors.${err.code}`),
          status: err.code === 'too_many_letters' || err.code === 'locked' ? 429 : 409,
          postLocked: err.code === 'locked',
        });
      throw err;
    }
    done(ctx, 'post_requested');
  });

  router.post('/post/code', async (ctx) => {
    const s = await session(ctx, false);
    if (!s) return;
    const code = parseForm(ctx, { code: text(32) }).code;
    const outcome = await postal.verify(s.account, code, ctx.ip);
    if (outcome === 'ok') return done(ctx, 'confirmed');
    // A code typed again after it confirmed the account: say that, not "nothing was requested".
    const key =
      outcome === 'nothing_requested' && s.account.level === 'confirmed'
        ? 'identity.level_errors.already'
        : outcome === 'nothing_requested' || outcome === 'not_standard' || outcome === 'data_changed' || outcome === 'locked'
          ? `identity.post_errors.${outcome}`
          : `code.${outcome}`;
    show(ctx, s, s.account, {
      error: views.t(ctx, key),
      status: outcome === 'wrong' ? 400 : outcome === 'limited' || outcome === 'locked' ? 429 : 409,
      postLocked: outcome === 'locked',
    });
  });

  return router;
}
