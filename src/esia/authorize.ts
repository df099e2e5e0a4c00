/**
 * ESIA's authorization endpoint, `/aas/oauth2/ac` (and `/aas/oauth2/v2/ac`): the request is
 * checked (client, redirect_uri, scope, timestamp, signature, state), then the citizen signs in
 * on vkhod's own hosted pages — an internal authorization at node-oidc-provider for the same
 * client, with every rule of the sign-in (levels, second factor, consent) — and comes back to
 * `/aas/oauth2/internal/callback`, where the provider's code becomes an ESIA code for the client's
 * redirect_uri.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.ts';
import { UserError } from '../web/errors.ts';
import { INTERNAL_CALLBACK_PATH } from './registration.ts';
import { EsiaError } from './errors.ts';
import { esiaCodes, pendingAuthorizations } from './records.ts';
import { checkCertificateHash, checkSignedRequest, readParams, required } from './request.ts';

const AC_PARAMS = [
  'client_id',
  'client_secret',
  'redirect_uri',
  'scope',
  'response_type',
  'state',
  'timestamp',
  'access_type',
  'client_certificate_hash',
] as const;

function redirectWith(ctx: Context, redirectUri: string, fields: Record<string, string>): void {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
  ctx.redirect(url.href);
}

export function esiaAuthorizationRoutes(services: Services): Router {
  const router = new Router();
  const pending = pendingAuthorizations.in(services.store);
  const codes = esiaCodes.in(services.store);

  const authorize = (version: 1 | 2) => async (ctx: Context) => {
    let params;
    try {
      params = readParams(ctx.query, AC_PARAMS);
    } catch {
      throw new UserError(400, 'esia.errors.bad_request');
    }
    const client = services.esiaClients.get(params.client_id ?? '');
    // Without a known client and one of its redirect URIs there is nowhere safe to send an error: a page.
    if (!client) throw new UserError(400, 'esia.errors.unknown_client');
    if (!params.redirect_uri || !client.redirectUris.includes(params.redirect_uri))
      throw new UserError(400, 'esia.errors.bad_redirect_uri');
    const redirectUri = params.redirect_uri;
    try {
      if (params.response_type !== 'code') throw new EsiaError('unsupported_response_type', 'response_type must be code');
      const scopes = [...new Set((params.scope ?? '').split(/\s+/).filter(Boolean))];
      if (!scopes.length) throw new EsiaError('missing_scope', 'scope is required');
      required(params, 'state', 'timestamp', 'client_secret');
      const refused = scopes.filter((s) => !client.scopes.has(s));
      if (refused.length) throw new EsiaError('invalid_scope', `scope not registered for the client: ${refused.join(' ')}`);
      const accessType = params.access_type ?? 'online';
      if (accessType !== 'online' && accessType !== 'offline')
        throw new EsiaError('missing_parameter', 'access_type must be online or offline');
      if (version === 2) {
        checkCertificateHash(client, params);
      }
      const [scope, clientId, state] = [params.scope!, client.clientId, params.state!];
      await checkSignedRequest(
        services,
        client,
        params,
        version === 1
          ? [(ts) => scope + ts + clientId + state]
          : [(ts) => clientId + scope + ts + state + redirectUri, (ts) => scope + ts + clientId + state + redirectUri],
        ctx.ip,
      );
      const key = randomBytes(24).toString('base64url');
      await pending.save(key, { clientId, redirectUri, state, scopes, accessType });
      const internal = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: `${services.config.issuer}${INTERNAL_CALLBACK_PATH}`,
        scope: [...new Set(['openid', ...scopes])].join(' '),
        state: key,
      });
      ctx.redirect(`/auth?${internal}`);
    } catch (err) {
      if (!(err instanceof EsiaError)) throw err;
      services.logger.info({ client: client.clientId, code: err.code, detail: err.detail }, 'esia authorization refused');
      redirectWith(ctx, redirectUri, { ...err.fields(), ...(params.state ? { state: params.state } : {}) });
    }
  };

  router.get('/aas/oauth2/ac', authorize(1));
  router.get('/aas/oauth2/v2/ac', authorize(2));

  // The provider's answer to the internal authorization: the sign-in happened (a code) or not (an error).
  router.get(INTERNAL_CALLBACK_PATH, async (ctx) => {
    const key = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const request = key ? await pending.take(key) : undefined;
    if (!request) throw new UserError(400, 'esia.errors.expired');
    const back = (fields: Record<string, string>) => redirectWith(ctx, request.redirectUri, { ...fields, state: request.state });
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    if (!code) {
      const err = new EsiaError('access_denied', 'the citizen did not sign in or refused access');
      return back(err.fields());
    }
    const issued = await services.provider.AuthorizationCode.find(code).catch(() => undefined);
    const won =
      issued &&
      issued.clientId === request.clientId &&
      !(issued as { consumed?: unknown }).consumed &&
      (await services.store.oidcAdapter('AuthorizationCode').consume(code));
    if (!issued || !won || !issued.accountId || !issued.grantId) {
      const err = new EsiaError('access_denied', 'the sign-in could not be completed');
      return back(err.fields());
    }
    const granted = new Set(String(issued.scope ?? '').split(' '));
    const esiaCode = randomBytes(32).toString('base64url');
    await codes.save(esiaCode, {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      accountId: issued.accountId,
      scopes: request.scopes.filter((s) => granted.has(s)),
      accessType: request.accessType,
      grantId: issued.grantId,
      sid: String(issued.sid ?? issued.sessionUid ?? ''),
      authTime: Number(issued.authTime ?? Math.floor(Date.now() / 1000)),
      amr: Array.isArray(issued.amr) ? issued.amr : [],
      ...(issued.acr ? { acr: issued.acr } : {}),
    });
    back({ code: esiaCode });
  });

  return router;
}
