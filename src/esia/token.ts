/**
 * ESIA's token endpoint, `/aas/oauth2/te` (and `/aas/oauth2/v3/te`): a form POST signed like the
 * authorization request. `authorization_code` redeems an ESIA code once, for the client and the
 * redirect_uri it was issued to; `refresh_token` (issued with `access_type=offline`) is rotated on
 * each use. The answer is ESIA's JSON (access_token, id_token, refresh_token, state, token_type,
 * expires_in); a refusal is `{error, error_description: "ESIA-0070xx: …", state}`.
 */
import { randomBytes } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services.ts';
import type { EsiaClient } from './registration.ts';
import { EsiaError } from './errors.ts';
import { ACCESS_TOKEN_MODEL, esiaCodes, REFRESH_TOKEN_MODEL, type EsiaSignIn, type EsiaTokenRecord } from './records.ts';
import { checkCertificateHash, checkSignedRequest, readParams, required, type Params } from './request.ts';
import type { EsiaTokens } from './tokens.ts';
import { tokenAcrHolds } from '../oidc/acr.ts';
import { revokeGrant } from '../oidc/one-time.ts';

const TE_PARAMS = [
  'client_id',
  'code',
  'grant_type',
  'client_secret',
  'state',
  'redirect_uri',
  'scope',
  'timestamp',
  'token_type',
  'refresh_token',
  'client_certificate_hash',
] as const;

type TokenAnswer = Record<string, string | number>;

export function esiaTokenRoutes(services: Services, tokens: () => Promise<EsiaTokens>): Router {
  const router = new Router();
  const codes = esiaCodes.in(services.store);
  const refreshTokens = () => services.store.oidcAdapter(REFRESH_TOKEN_MODEL);

  /** Tokens for a sign-in, if the account and the grant (the consent) still stand. */
  async function issue(client: EsiaClient, signIn: EsiaSignIn, state: string): Promise<TokenAnswer> {
    const account = await services.accounts.findActive(signIn.accountId);
    const grant = account && (await services.provider.Grant.find(signIn.grantId).catch(() => undefined));
    if (!account || !grant) throw new EsiaError('invalid_grant', 'the sign-in behind this grant has ended');
    // As on the OIDC side: an account whose level dropped below the sign-in's acr gets no new token saying it.
    if (!tokenAcrHolds(account.level, signIn))
      throw new EsiaError('invalid_grant', 'the account no longer satisfies the assurance this sign-in was made at: sign in again');
    const oid = await services.store.esia.oidOf(account.id);
    const minted = await (await tokens()).mint(client, signIn, oid, account.level);
    const record: EsiaTokenRecord = { ...signIn, oid };
    await services.store.oidcAdapter(ACCESS_TOKEN_MODEL).upsert(minted.jti, record, minted.expires_in);
    const answer: TokenAnswer = {
      access_token: minted.access_token,
      id_token: minted.id_token,
      state,
      token_type: 'Bearer',
      expires_in: minted.expires_in,
    };
    if (signIn.accessType === 'offline') {
      const refresh = randomBytes(32).toString('base64url');
      await refreshTokens().upsert(refresh, record, services.config.ttl.refreshToken);
      answer.refresh_token = refresh;
    }
    return answer;
  }

  /**
   * A code or refresh token used a second time: someone else may hold it. As on the OIDC side (RFC
   * 6749 §4.1.2, RFC 9700 §4.14.2), everything issued under its grant is revoked — the tokens of the
   * first use, the refresh token that replaced it — and the grant (the consent) with them.
   */
  async function replayed(grantId: string, what: string): Promise<never> {
    await revokeGrant(services.store, grantId);
    throw new EsiaError('invalid_grant', `the ${what} was already used: the tokens issued for it are revoked`);
  }

  async function byCode(client: EsiaClient, params: Params): Promise<TokenAnswer> {
    required(params, 'code', 'redirect_uri');
    const found = await codes.inspect(params.code!);
    const signIn = found?.record;
    if (!signIn || signIn.clientId !== client.clientId || signIn.redirectUri !== params.redirect_uri)
      throw new EsiaError('invalid_grant', 'the code is invalid, expired, or was issued to another client or redirect_uri');
    if (found.used || !(await codes.consume(params.code!))) return replayed(signIn.grantId, 'code');
    return issue(client, signIn, params.state!);
  }

  async function byRefreshToken(client: EsiaClient, params: Params): Promise<TokenAnswer> {
    required(params, 'refresh_token');
    const found = (await refreshTokens().find(params.refresh_token!)) as EsiaTokenRecord | undefined;
    if (!found || found.clientId !== client.clientId)
      throw new EsiaError('invalid_grant', 'the refresh token is invalid, expired, or was issued to another client');
    if (found.consumed !== undefined || !(await refreshTokens().consume(params.refresh_token!)))
      return replayed(found.grantId, 'refresh token');
    const { oid: _oid, consumed: _consumed, ...signIn } = found;
    return issue(client, signIn as unknown as EsiaSignIn, params.state!);
  }

  const token = (version: 1 | 3) => async (ctx: Context) => {
    ctx.set({ 'cache-control': 'no-store', pragma: 'no-cache' });
    let state: string | undefined;
    try {
      // ESIA's token request is a form: a JSON (or other) body was not read, and "client_id is
      // required" would send the integrator looking for a parameter they did send.
      if (ctx.request.length && !ctx.is('application/x-www-form-urlencoded'))
        throw new EsiaError('missing_parameter', 'the request body must be application/x-www-form-urlencoded');
      const params = readParams(ctx.request.body as Record<string, unknown> | undefined, TE_PARAMS);
      state = params.state;
      required(params, 'client_id', 'grant_type');
      if (!params.scope) throw new EsiaError('missing_scope', 'scope is required');
      required(params, 'client_secret', 'state', 'timestamp');
      const client = services.esiaClients.get(params.client_id!);
      if (!client) throw new EsiaError('unknown_client', 'unknown client_id');
      if (params.token_type !== undefined && params.token_type !== 'Bearer')
        throw new EsiaError('missing_parameter', 'token_type must be Bearer');
      const grantType = params.grant_type;
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token')
        throw new EsiaError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
      if (version === 3) checkCertificateHash(client, params);
      const [scope, clientId] = [params.scope!, client.clientId];
      const tail = (grantType === 'authorization_code' ? params.code : params.refresh_token) ?? '';
      const redirectUri = params.redirect_uri ?? '';
      await checkSignedRequest(
        services,
        client,
        params,
        version === 1
          ? [(ts) => scope + ts + clientId + params.state]
          : [
              (ts) => clientId + scope + ts + params.state + redirectUri + tail,
              (ts) => scope + ts + clientId + params.state + redirectUri + tail,
            ],
        ctx.ip,
      );
      ctx.body = grantType === 'authorization_code' ? await byCode(client, params) : await byRefreshToken(client, params);
    } catch (err) {
      if (!(err instanceof EsiaError)) throw err;
      services.logger.info({ code: err.code, detail: err.detail }, 'esia token request refused');
      ctx.status = err.problem === 'unknown_client' ? 401 : err.problem === 'temporarily_unavailable' ? 429 : 400;
      ctx.body = { ...err.fields(), ...(state ? { state } : {}) };
    }
  };

  router.post('/aas/oauth2/te', token(1));
  router.post('/aas/oauth2/v3/te', token(3));
  return router;
}
