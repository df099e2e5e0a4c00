/**
 * Consent: each requested item in plain words, remembered per client (the account keeps the
 * grant), refusable. Refusal ends the request with access_denied for the relying party.
 */
import type { Context } from 'koa';
import type { Services } from '../services.ts';
import { VersionConflictError } from '../store.ts';
import { clientOf, finishInteraction, type InteractionDetails } from './interaction-context.ts';

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export async function showConsent(services: Services, ctx: Context, details: InteractionDetails): Promise<void> {
  const { clientName } = await clientOf(services.provider, details);
  const missing = details.prompt.details as ConsentDetails;
  const { views } = services;
  const items = [
    ...(missing.missingOIDCScope ?? []).filter((s) => s !== 'openid').map((s) => views.t(ctx, views.messages.has(`scopes.${s}`) ? `scopes.${s}` : 'scopes.other', { scope: s })),
    ...(missing.missingOIDCClaims ?? []).map((c) => views.t(ctx, views.messages.has(`claims.${c}`) ? `claims.${c}` : 'claims.other', { claim: c })),
  ];
  if (items.length === 0) items.push(views.t(ctx, 'scopes.openid'));
  views.render(ctx, 'consent', { title: 'consent.title', uid: details.uid, clientName, items, csrf: ctx.state.csrf(details.uid) });
}

/** Remembers the grant on the account so the next session does not ask again. */
async function rememberGrant(services: Services, accountId: string, clientId: string, grantId: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const account = await services.accounts.findActive(accountId);
    if (!account) return;
    const consents = { ...((account.extra?.consents as Record<string, string>) ?? {}), [clientId]: grantId };
    try {
      await services.store.accounts.update({ ...account, extra: { ...account.extra, consents }, updatedAt: new Date().toISOString() }, account.version);
      return;
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
    }
  }
}

export async function submitConsent(services: Services, ctx: Context, details: InteractionDetails): Promise<void> {
  const body = ctx.request.body as Record<string, unknown>;
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id);
  if (!accountId) {
    await finishInteraction(services.provider, ctx, { error: 'login_required', error_description: 'no session' });
    return;
  }
  if (body.decision !== 'allow') {
    await services.audit.record({ type: 'consent', accountId, clientId, ip: ctx.ip, outcome: 'failure', details: { decision: 'deny' } });
    await finishInteraction(services.provider, ctx, { error: 'access_denied', error_description: 'the citizen refused consent' });
    return;
  }
  const { Grant } = services.provider;
  const grant = (details.grantId ? await Grant.find(details.grantId) : undefined) ?? new Grant({ accountId, clientId });
  const missing = details.prompt.details as ConsentDetails;
  if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  await rememberGrant(services, accountId, clientId, grantId);
  await services.audit.record({ type: 'consent', accountId, clientId, ip: ctx.ip, outcome: 'success', details: { scopes: missing.missingOIDCScope ?? [], claims: missing.missingOIDCClaims ?? [] } });
  await finishInteraction(services.provider, ctx, { consent: { grantId } });
}
