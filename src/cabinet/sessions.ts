/**
 * Sessions and devices (/account/sessions): the account's live sessions with their device, IP,
 * sign-in time and method; end one or all others (their grants and refresh tokens go with them).
 * Also the sign-in alert settings (which channels carry "new device" alerts).
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.ts';
import { checkbox, parseForm } from '../web/form.ts';
import { UserError } from '../web/errors.ts';
import { alertSettings, endOtherSessions, endSession, listSessions } from './devices.ts';
import { cabinetBinding, requireCabinetSession } from './session.ts';
import { deviceLabel } from './user-agent.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'config' | 'csrf' | 'logger' | 'notifier' | 'provider' | 'store' | 'views'>;

const AMR = new Set(['pwd', 'otp', 'sms', 'sc', 'mfa', 'hwk', 'swk', 'fed', 'user', 'pin', 'mca']);

export function formatTime(services: Deps, ctx: Context, at: number | string): string {
  const locale = services.views.locale(ctx) === 'en' ? 'en-GB' : 'ru-RU';
  return new Date(at).toLocaleString(locale, {
    timeZone: 'Europe/Moscow',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function amrWords(services: Deps, ctx: Context, amr: string[]): string {
  return (
    amr
      .filter((m) => AMR.has(m))
      .map((m) => services.views.t(ctx, `sessions.amr.${m}`))
      .join(' + ') || services.views.t(ctx, 'sessions.amr.unknown')
  );
}

export function sessionsRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/sessions' });
  const { views } = services;
  const done = (ctx: Context, notice: string) => {
    ctx.status = 303;
    ctx.redirect(`/account/sessions?notice=${notice}`);
  };

  router.get('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const unknown = views.t(ctx, 'sessions.unknown_device');
    const sessions = (await listSessions(services, s.account.id)).map((x) => ({
      uid: x.uid,
      current: x.uid === s.uid,
      device: deviceLabel(x.device?.ua, unknown),
      ip: x.device?.ip ?? '—',
      at: formatTime(services, ctx, x.loginTs * 1000),
      method: amrWords(services, ctx, x.amr),
      service: x.device?.clientName,
    }));
    const alerts = alertSettings(s.account);
    views.render(ctx, 'sessions', {
      title: 'sessions.title',
      csrf: ctx.state.csrf(cabinetBinding(s)),
      notice: views.notice(ctx, 'sessions'),
      sessions,
      others: sessions.some((x) => !x.current),
      alerts,
      hasPhone: Boolean(s.account.phone && s.account.phoneVerified),
      hasEmail: Boolean(s.account.email && s.account.emailVerified),
    });
  });

  router.post('/end-others', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const ended = await endOtherSessions(services, s.account.id, s.uid, false);
    await services.audit.record({
      type: 'sessions.ended',
      accountId: s.account.id,
      actor: 'self',
      ip: ctx.ip,
      outcome: 'success',
      details: { count: ended, others: true },
    });
    done(ctx, 'others_ended');
  });

  router.post('/alerts', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const body = parseForm(ctx, { sms: checkbox(), email: checkbox() });
    const alerts = { sms: body.sms, email: body.email };
    await services.accounts.modify(s.account.id, (a) => ({ ...a, extra: { ...a.extra, alerts } }), {
      type: 'alerts.changed',
      actor: 'self',
      ip: ctx.ip,
      outcome: 'success',
      details: alerts,
    });
    done(ctx, 'alerts_saved');
  });

  router.post('/:uid/end', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const target = (await listSessions(services, s.account.id)).find((x) => x.uid === ctx.params.uid);
    if (!target) throw new UserError(404, 'sessions.not_found');
    await endSession(services, target);
    await services.audit.record({
      type: 'sessions.ended',
      accountId: s.account.id,
      actor: 'self',
      ip: ctx.ip,
      outcome: 'success',
      details: { count: 1, current: target.uid === s.uid },
    });
    if (target.uid === s.uid) {
      ctx.status = 303;
      return ctx.redirect('/');
    }
    done(ctx, 'ended');
  });

  return router;
}
