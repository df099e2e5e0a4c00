/**
 * The phone's side of "Войти по QR-коду" (/account/qr/:uid/:token): the address in the QR code.
 * Signed in through the cabinet's session (or signing in first), the citizen sees which device
 * asks (browser and system, IP address, time), for which service, and the confirmation code the
 * computer shows, and approves or refuses — once. A one-factor session first adds a second factor
 * when the service asked for an `-mfa` value. Approvals and refusals are audited with both devices.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { approvalAmr, needsSecondFactor, QrSignIns, type QrRequest, type QrUnavailable } from '../federation/qr-sign-in.ts';
import type { Services } from '../services.ts';
import { deviceLabel } from '../web/user-agent.ts';
import { UserError } from '../web/errors.ts';
import { cabinetBinding, requireCabinetSession, startCabinetSignIn, loginHintOf, type CabinetSession } from './session.ts';
import { formatTime } from './sessions.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'config' | 'csrf' | 'logger' | 'notifier' | 'provider' | 'store' | 'views'>;

const TOKEN = /^[\w-]{20,64}$/;

export function qrApprovalRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/qr/:uid/:token' });
  const { views } = services;
  const qr = new QrSignIns(services.store);

  const address = (ctx: Context) => {
    const { uid, token } = ctx.params as { uid: string; token: string };
    if (!TOKEN.test(token) || uid.length > 64) throw new UserError(404, 'qr.unavailable.expired');
    return { uid, token, path: `/account/qr/${encodeURIComponent(uid)}/${token}` };
  };

  function showUnavailable(ctx: Context, why: QrUnavailable): void {
    views.render(ctx, 'qr-approve', { title: 'qr.approve_title', unavailable: views.t(ctx, `qr.unavailable.${why}`) }, 410);
  }

  function showRequest(ctx: Context, s: CabinetSession, request: QrRequest, path: string): void {
    const stepUp = needsSecondFactor(request, s.account, s.amr);
    views.render(ctx, 'qr-approve', {
      title: 'qr.approve_title',
      request: {
        service: request.clientName,
        device: deviceLabel(request.computer.ua, views.t(ctx, 'device.unknown_device')),
        ip: request.computer.ip,
        at: formatTime(services, ctx, request.createdAt),
        code: request.code,
      },
      action: path,
      stepUp: stepUp ? `${path}/step-up` : undefined,
      csrf: ctx.state.csrf(cabinetBinding(s)),
    });
  }

  router.get('/', async (ctx) => {
    const { uid, token, path } = address(ctx);
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const found = await qr.forPhone(uid, token);
    if ('unavailable' in found) return showUnavailable(ctx, found.unavailable);
    showRequest(ctx, s, found.request, path);
  });

  /** The service asked for two factors and this session has one: sign in again with the second one, then come back. */
  router.get('/step-up', async (ctx) => {
    const { uid, token, path } = address(ctx);
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const found = await qr.forPhone(uid, token);
    if ('unavailable' in found) return showUnavailable(ctx, found.unavailable);
    const acr = needsSecondFactor(found.request, s.account, s.amr);
    if (!acr) return ctx.redirect(path);
    startCabinetSignIn(services, ctx, path, false, loginHintOf(s.account), acr);
  });

  for (const decision of ['approve', 'deny'] as const) {
    router.post(`/${decision}`, async (ctx) => {
      const { uid, token } = address(ctx);
      const s = await requireCabinetSession(services, ctx, false);
      if (!s) return;
      const phone = { ua: ctx.get('user-agent').slice(0, 512), ip: ctx.ip };
      if (decision === 'approve') {
        const found = await qr.forPhone(uid, token);
        if ('unavailable' in found) return showUnavailable(ctx, found.unavailable);
        if (needsSecondFactor(found.request, s.account, s.amr)) throw new UserError(403, 'qr.second_factor_needed');
      }
      const outcome = await qr.decide(
        uid,
        token,
        decision === 'approve' ? { approve: true, account: s.account, amr: s.amr, authTime: s.authTime, phone } : { approve: false, phone },
      );
      if ('unavailable' in outcome) return showUnavailable(ctx, outcome.unavailable);
      const request = outcome.decided;
      await services.audit.record({
        type: 'signin.qr',
        accountId: s.account.id,
        clientId: request.clientId,
        ip: ctx.ip,
        outcome: decision === 'approve' ? 'success' : 'failure',
        details: {
          decision: decision === 'approve' ? 'approved' : 'denied',
          ua: phone.ua.slice(0, 200),
          computer: { ua: request.computer.ua.slice(0, 200), ip: request.computer.ip },
          ...(decision === 'approve' ? { amr: approvalAmr(s.amr) } : {}),
        },
      });
      views.render(ctx, 'qr-approve', {
        title: 'qr.approve_title',
        done: views.t(ctx, decision === 'approve' ? 'qr.approved_phone' : 'qr.denied_phone', { service: request.clientName }),
      });
    });
  }

  return router;
}
