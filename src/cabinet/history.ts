/**
 * Sign-in history (/account/history): the last 90 days of the account's security events from
 * the audit trail — sign-ins (success, failure, lockout), second-factor and contact changes,
 * level changes, consents, password changes — with time, IP, device and service. Paged.
 */
import Router from '@koa/router';
import type { Services } from '../services.ts';
import type { AuditEvent } from '../store.ts';
import { requireCabinetSession } from './session.ts';
import { formatTime } from './sessions.ts';
import { deviceLabel } from './user-agent.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'config' | 'csrf' | 'logger' | 'notifier' | 'provider' | 'store' | 'views'>;

export const HISTORY_DAYS = 90;
const PAGE = 20;
const SCAN = 2000;

/** The event types the citizen sees, by prefix, and the words for each. */
const SHOWN =
  /^(signin|lockout|account\.|mfa|factor|totp|passkey|recovery|contact|level|identity|verification|consent|sessions\.|alerts\.|federation)/;

export function historyRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/history' });
  const { views, store } = services;

  const describe = (ctx: Parameters<typeof views.t>[0], e: AuditEvent) => {
    const special = crossDevice(ctx, e);
    if (special) return special;
    const key = `history.events.${e.type}${e.outcome === 'failure' ? '_failure' : ''}`;
    if (views.messages.has(key)) return views.t(ctx, key);
    const base = `history.events.${e.type}`;
    return views.messages.has(base) ? views.t(ctx, base) : views.t(ctx, 'history.events.other', { type: e.type });
  };

  /**
   * Sign-ins across devices, in words with the other device: a QR code approved or refused on the
   * phone (which computer asked), a sign-in finished by a QR approval, and access handed to a TV or
   * another computer (device grant, QR code).
   */
  const crossDevice = (ctx: Parameters<typeof views.t>[0], e: AuditEvent): string | undefined => {
    const unknown = views.t(ctx, 'sessions.unknown_device');
    if (e.type === 'signin.qr') {
      const computer = e.details?.computer as { ua?: string; ip?: string } | undefined;
      return views.t(ctx, `history.events.signin_qr_${e.outcome === 'failure' ? 'denied' : 'approved'}`, {
        device: deviceLabel(computer?.ua, unknown),
        ip: computer?.ip ?? '—',
      });
    }
    if (e.type === 'signin' && e.outcome !== 'failure' && e.details?.method === 'qr') return views.t(ctx, 'history.events.signin_by_qr');
    if (e.type === 'signin.handover')
      return views.t(ctx, `history.events.signin_handover_${e.details?.via === 'device' ? 'device' : 'qr'}`);
    return undefined;
  };

  router.get('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const page = Math.min(Math.max(1, Number.parseInt(String(ctx.query.page ?? '1'), 10) || 1), 1000);
    const since = Date.now() - HISTORY_DAYS * 86_400_000;
    const events = (await store.audit.listForAccount(s.account.id, SCAN)).filter((e) => Date.parse(e.at) >= since && SHOWN.test(e.type));
    const names = new Map<string, string>();
    const shown = events.slice((page - 1) * PAGE, page * PAGE);
    for (const e of shown) {
      if (e.clientId && !names.has(e.clientId))
        names.set(e.clientId, (await services.provider.Client.find(e.clientId).catch(() => undefined))?.clientName ?? e.clientId);
    }
    const ua = (e: AuditEvent) => (typeof e.details?.ua === 'string' ? e.details.ua : undefined);
    views.render(ctx, 'history', {
      title: 'history.title',
      days: HISTORY_DAYS,
      events: shown.map((e) => ({
        at: formatTime(services, ctx, e.at),
        what: describe(ctx, e),
        failure: e.outcome === 'failure',
        ip: e.ip ?? '—',
        device: ua(e) ? deviceLabel(ua(e), views.t(ctx, 'sessions.unknown_device')) : '—',
        service: e.clientId ? names.get(e.clientId) : undefined,
      })),
      prev: page > 1 ? page - 1 : undefined,
      next: events.length > page * PAGE ? page + 1 : undefined,
    });
  });

  return router;
}
