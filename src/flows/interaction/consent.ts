/**
 * Consent: each requested item in plain words, remembered per client as data on the account
 * (oidc/consents.ts; each sign-in gets its own grant from it), refusable. Refusal ends the request with access_denied for the relying party.
 */
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import { rememberConsent } from '../../oidc/consents.ts';
import { claimPurposes } from '../../oidc/claims.ts';
import { clientOf, finishInteraction, type InteractionDetails } from './context.ts';
import { parseForm, text } from '../../web/form.ts';

/** What this module uses of the services (the composition root's bundle). */
export type Deps = Pick<Services, 'accounts' | 'audit' | 'provider' | 'views'>;

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  /** claims asked for inside OIDC4IDA's verified_claims that no granted scope releases (provider.ts) */
  missingVerifiedClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

export async function showConsent(services: Deps, ctx: Context, details: InteractionDetails): Promise<void> {
  const { clientName } = await clientOf(services.provider, details);
  const missing = details.prompt.details as ConsentDetails;
  const { views } = services;
  const items = [
    ...(missing.missingOIDCScope ?? [])
      .filter((s) => s !== 'openid')
      .map((s) => views.t(ctx, views.messages.has(`scopes.${s}`) ? `scopes.${s}` : 'scopes.other', { scope: s })),
    ...[...new Set([...(missing.missingOIDCClaims ?? []), ...(missing.missingVerifiedClaims ?? [])])].map((c) =>
      views.t(ctx, views.messages.has(`claims.${c}`) ? `claims.${c}` : 'claims.other', { claim: c }),
    ),
  ];
  if (items.length === 0) items.push(views.t(ctx, 'scopes.openid'));
  // What the service says it wants the data for (OIDC4IDA §6.1: shown on the consent screen).
  const purposes = claimPurposes(details.params.claims).map(({ claim, purpose }) => ({
    item: views.t(ctx, views.messages.has(`claims.${claim}`) ? `claims.${claim}` : 'claims.other', { claim }),
    purpose,
  }));
  views.render(ctx, 'consent', {
    title: 'consent.title',
    uid: details.uid,
    clientName,
    items,
    purposes,
    csrf: ctx.state.csrf(details.uid),
  });
}

export async function submitConsent(services: Deps, ctx: Context, details: InteractionDetails): Promise<void> {
  const body = parseForm(ctx, { decision: text() });
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
  const claims = [...(missing.missingOIDCClaims ?? []), ...(missing.missingVerifiedClaims ?? [])];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
    grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  // Remembered as data on the account: every later sign-in builds its own grant from it.
  await rememberConsent(services.accounts, accountId, clientId, {
    scopes: grant.getOIDCScope().split(' ').filter(Boolean),
    claims: grant.getOIDCClaims(),
  });
  await services.audit.record({
    type: 'consent',
    accountId,
    clientId,
    ip: ctx.ip,
    outcome: 'success',
    details: { scopes: missing.missingOIDCScope ?? [], claims },
  });
  await finishInteraction(services.provider, ctx, { consent: { grantId } });
}
