/**
 * "Войти по QR-коду" on the computer (/interaction/:uid/qr): the page shows a QR code of a
 * 2-minute request (federation/qr-sign-in.ts) and a confirmation code, and moves on by itself —
 * a meta refresh without JavaScript, a faster poll of `/qr/status` with it. Once the phone has
 * approved, the page takes the approval (once) and the sign-in ends through `advance` like every
 * other first factor, with the phone's amr plus `mca`; refused or expired is said here too.
 */
import Router from '@koa/router';
import type { Context } from 'koa';
import { approvalAmr, QrSignIns, type QrRequest } from '../../federation/qr-sign-in.ts';
import { requestedAcrs } from '../../oidc/acr.ts';
import { qrSvg } from '../../methods/qr-code.ts';
import { deviceLabel } from '../../web/user-agent.ts';
import { UserError } from '../../web/errors.ts';
import { clientOf, loadInteraction, type InteractionDetails } from '../interaction/context.ts';
import { advance, type Deps as AdvanceDeps } from './advance.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = AdvanceDeps;

/** Seconds between refreshes of the page without JavaScript (the script polls every 2 s). */
export const QR_PAGE_REFRESH_SECONDS = 5;

/** The phone's address for a request: the cabinet's approval page. */
export const qrApprovalPath = (uid: string, token: string) => `/account/qr/${encodeURIComponent(uid)}/${token}`;

type Shown = 'pending' | 'expired' | 'denied';

export function qrSignInRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/qr' });
  const qr = new QrSignIns(services.store);

  router.get('/', async (ctx) => {
    const details = await loadInteraction(services.provider, ctx);
    if (details.prompt.name !== 'login') throw new UserError(400, 'errors.interaction_step');
    const shownId = typeof ctx.query.r === 'string' ? ctx.query.r : undefined;
    const current = await qr.current(details.uid);
    if (current?.status === 'approved') return complete(ctx, details);
    if (current?.status === 'denied' && current.id === shownId) {
      await qr.discard(details.uid);
      return show(ctx, details, undefined, 'denied');
    }
    // The page's request is gone (expired while nobody refreshed): say so, and offer a new one.
    const expired = Boolean(shownId) && (!current || current.id !== shownId);
    const { clientId, clientName } = await clientOf(services.provider, details);
    const request = await qr.open(details.uid, {
      clientId: clientId ?? String(details.params.client_id),
      clientName,
      requested: requestedAcrs(details.params),
      computer: { ua: ctx.get('user-agent'), ip: ctx.ip },
    });
    return show(ctx, details, request, expired ? 'expired' : 'pending');
  });

  /** For the page's script: has the request moved on? (`pending`, `approved`, `denied` or `expired`) */
  router.get('/status', async (ctx) => {
    const details = await loadInteraction(services.provider, ctx);
    const current = await qr.current(details.uid);
    const shownId = typeof ctx.query.r === 'string' ? ctx.query.r : '';
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: !current || current.id !== shownId ? 'expired' : current.status };
  });

  async function show(ctx: Context, details: InteractionDetails, request: QrRequest | undefined, shown: Shown): Promise<void> {
    const { views, config } = services;
    const url = request ? `${config.issuer}${qrApprovalPath(details.uid, request.token)}` : undefined;
    const self = `/interaction/${details.uid}/qr`;
    views.render(
      ctx,
      'qr-sign-in',
      {
        title: 'qr.title',
        uid: details.uid,
        csrf: ctx.state.csrf(details.uid),
        qr: url ? await qrSvg(url) : undefined,
        url,
        code: request?.code,
        device: deviceLabel(ctx.get('user-agent'), views.t(ctx, 'device.unknown_device')),
        expired: shown === 'expired',
        denied: shown === 'denied',
        refresh: request ? `${QR_PAGE_REFRESH_SECONDS}; url=${self}?r=${request.id}` : undefined,
        poll: request ? `${self}/status?r=${request.id}` : undefined,
        next: request ? `${self}?r=${request.id}` : undefined,
        again: self,
      },
      shown === 'denied' ? 403 : 200,
    );
  }

  /** The approval, taken once: the sign-in goes on as the phone's account, through `advance`. */
  async function complete(ctx: Context, details: InteractionDetails): Promise<void> {
    const taken = await qr.takeApproved(details.uid);
    if (!taken?.approval) throw new UserError(409, 'qr.already_used');
    const account = await services.accounts.findActive(taken.approval.accountId);
    if (!account) throw new UserError(409, 'qr.already_used');
    // Someone else's computer as often as not: the session ends with the browser.
    // As old as the phone's own sign-in, not "now": nothing was typed on either device, so max_age,
    // prompt=login and the cabinet's fresh-sign-in rule see the real age of what the phone proved.
    await advance(services, ctx, details, {
      account,
      amr: approvalAmr(taken.approval.amr),
      remember: false,
      method: 'qr',
      ...(taken.approval.authTime ? { ts: taken.approval.authTime } : {}),
    });
  }

  return router;
}
