/**
 * Answers of node-oidc-provider 9 that say something other than the RFCs, set right after its
 * endpoint has answered — from the facts the endpoint decided on, not from its wording:
 *
 * - A request to an endpoint that authenticates clients (token, introspection, revocation, PAR,
 *   device authorization) with no client authentication at all — no Authorization header, no
 *   client_id, no assertion — gets `400 invalid_request`; RFC 6749 §5.2 names exactly that case
 *   ("no client authentication included") `invalid_client`, answered 401 with the scheme to use.
 *
 * - An authenticated client asking the token or device authorization endpoint for a grant it is not
 *   registered for gets `invalid_request`; RFC 6749 §5.2 (and RFC 8628 §3.2, which uses it) names
 *   that `unauthorized_client` — the error a relying party's library shows as "this client may not
 *   do that", not "your request is malformed".
 * - Introspecting a JWT (an ID token, a logout token, any structured string) is refused with
 *   `unsupported_token_type`, an error RFC 7662 does not have: a token the server does not
 *   introspect is, for the resource server that asks, not active (RFC 7662 §2.2: `active: false`).
 *   vkhod's access and refresh tokens are opaque; a JWT is never one of them.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

/** RFC 8628's grant type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

type ClientLike = { grantTypeAllowed(grant: string): boolean };

/** The grant the request asked for, by endpoint (undefined: this endpoint grants nothing). */
function askedGrant(ctx: KoaContextWithOIDC): unknown {
  if (ctx.oidc.route === 'token') return (ctx.oidc.params as Record<string, unknown> | undefined)?.grant_type;
  if (ctx.oidc.route === 'device_authorization') return DEVICE_CODE_GRANT;
  return undefined;
}

/** The provider's endpoints that authenticate the client (RFC 6749 §2.3). */
const AUTHENTICATING_ROUTES = new Set(['token', 'introspection', 'revocation', 'pushed_authorization_request', 'device_authorization']);

/** The request's body was read and names no client, and no Authorization header came: nothing to authenticate. */
function withoutClientAuthentication(ctx: KoaContextWithOIDC): boolean {
  if (ctx.oidc.client || !AUTHENTICATING_ROUTES.has(String(ctx.oidc.route))) return false;
  const body = ctx.oidc.body as Record<string, unknown> | undefined;
  if (!body || ctx.headers.authorization !== undefined) return false;
  return !body.client_id && !body.client_assertion && !body.client_secret;
}

function correct(ctx: KoaContextWithOIDC): void {
  const body = ctx.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || typeof body.error !== 'string') return;
  if (body.error === 'invalid_request' && withoutClientAuthentication(ctx)) {
    ctx.status = 401;
    body.error = 'invalid_client';
    ctx.set('www-authenticate', `Basic realm="${ctx.oidc.provider.issuer}"`);
    return;
  }
  if (body.error === 'invalid_request') {
    const client = ctx.oidc.client as unknown as ClientLike | undefined;
    const grant = askedGrant(ctx);
    if (client && typeof grant === 'string' && !client.grantTypeAllowed(grant)) body.error = 'unauthorized_client';
    return;
  }
  if (body.error === 'unsupported_token_type' && ctx.oidc.route === 'introspection' && ctx.oidc.client) {
    ctx.status = 200;
    ctx.body = { active: false };
  }
}

/**
 * RFC 7662 §2.1, §4: the caller of introspection must be authenticated. A public client
 * (`token_endpoint_auth_method: none`) has no secret: naming it proves nothing, and anyone knowing
 * its id could scan tokens. Refused as the failed client authentication it is — whatever the token,
 * so that the answer says nothing about it either.
 */
function refusePublicIntrospection(ctx: KoaContextWithOIDC): void {
  ctx.status = 401;
  ctx.body = { error: 'invalid_client', error_description: 'a public client cannot introspect tokens: it has no means to authenticate' };
}

/** A provider middleware (`provider.use`): corrects the answer after the endpoint. */
export function standardErrorCodes(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  return next().then(() => {
    if (!ctx.oidc) return;
    if (ctx.oidc.route === 'introspection' && (ctx.oidc.client as { clientAuthMethod?: string } | undefined)?.clientAuthMethod === 'none')
      return refusePublicIntrospection(ctx);
    if (ctx.status >= 400) correct(ctx);
  });
}
