/**
 * Connected services (/account/services): every relying party the citizen gave consent to (the
 * consent kept on the account, oidc/consents.ts) — what data, since when, last used — and
 * withdrawing it: the consent record goes, every grant and token of that client for the account
 * is revoked, and the next sign-in to the service asks again.
 */
import Router from '@koa/router';
import type { Services } from '../services.ts';
import { consentsOf } from '../oidc/consents.ts';
import { UserError } from '../web/errors.ts';
import { cabinetBinding, requireCabinetSession } from './session.ts';
import { formatTime } from './sessions.ts';
import { CABINET_CLIENT_ID } from './session.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'config' | 'csrf' | 'logger' | 'notifier' | 'provider' | 'store' | 'views'>;

export function connectedServicesRoutes(services: Deps): Router {
  const router = new Router({ prefix: '/account/services' });
  const { views, store } = services;

  const clientName = async (clientId: string) => {
    const client = await services.provider.Client.find(clientId).catch(() => undefined);
    return client?.clientName ?? clientId;
  };

  router.get('/', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const consents = consentsOf(s.account);
    const events = await store.audit.listForAccount(s.account.id, 500);
    const list = await Promise.all(
      Object.entries(consents)
        .filter(([clientId]) => clientId !== CABINET_CLIENT_ID)
        .map(async ([clientId, c]) => {
          // Signed in to it, or entered it by single sign-on (the newest first).
          const last = events.find(
            (e) => (e.type === 'signin' || e.type === 'signin.sso') && e.outcome === 'success' && e.clientId === clientId,
          );
          const items = [
            ...c.scopes
              .filter((x) => x !== 'openid')
              .map((x) => views.t(ctx, views.messages.has(`scopes.${x}`) ? `scopes.${x}` : 'scopes.other', { scope: x })),
            ...c.claims.map((x) => views.t(ctx, views.messages.has(`claims.${x}`) ? `claims.${x}` : 'claims.other', { claim: x })),
          ];
          return {
            clientId,
            name: await clientName(clientId),
            items: items.length ? items : [views.t(ctx, 'scopes.openid')],
            since: c.at ? formatTime(services, ctx, c.at) : undefined,
            lastUsed: last ? formatTime(services, ctx, last.at) : undefined,
          };
        }),
    );
    views.render(ctx, 'connected-services', {
      title: 'connected.title',
      csrf: ctx.state.csrf(cabinetBinding(s)),
      notice: views.notice(ctx, 'connected'),
      services: list,
    });
  });

  router.post('/:client/withdraw', async (ctx) => {
    const s = await requireCabinetSession(services, ctx, false);
    if (!s) return;
    const clientId = ctx.params.client!;
    if (!Object.hasOwn(consentsOf(s.account), clientId) && !Object.hasOwn((s.account.extra?.consents ?? {}) as object, clientId))
      throw new UserError(404, 'connected.not_found');
    await services.accounts.modify(
      s.account.id,
      (a) => {
        const { [clientId]: _gone, ...rest } = (a.extra?.consents ?? {}) as Record<string, unknown>;
        return { ...a, extra: { ...a.extra, consents: rest } };
      },
      { type: 'consent.withdrawn', actor: 'self', clientId, ip: ctx.ip, outcome: 'success' },
    );
    for (const grant of await store.listOidcByAccountId('Grant', s.account.id)) {
      if (grant.payload.clientId !== clientId) continue;
      await store.oidcAdapter('Grant').revokeByGrantId(grant.id);
      await store.oidcAdapter('Grant').destroy(grant.id);
    }
    ctx.status = 303;
    ctx.redirect('/account/services?notice=withdrawn');
  });

  return router;
}
