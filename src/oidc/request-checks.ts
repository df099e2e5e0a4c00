/**
 * Checks on every authorization request (authorization endpoint and PAR) that node-oidc-provider
 * does not make itself, run as its `extraParams` validators (after client and redirect_uri are
 * known, so a failure goes back to the relying party as an OAuth error):
 *
 * - a scope vkhod does not know fails with `invalid_scope` (node-oidc-provider drops it silently);
 * - no parameter is longer than vkhod stores (state, nonce, … are kept in the interaction and the
 *   session): `invalid_request`;
 * - an `acr` claim requested as essential with values of which vkhod knows none fails with
 *   `unmet_authentication_requirements` (OIDC Core 5.5.1.1: an essential acr that cannot be met is
 *   a failed authentication). Taken as voluntary, the sign-in would end with another acr and
 *   node-oidc-provider would ask for the sign-in again, and again;
 * - an OpenID request names its `redirect_uri` (OIDC Core 3.1.2.1: REQUIRED). node-oidc-provider
 *   takes a client's only registered URI when it is left out, as RFC 6749 §3.1.2.3 allows for plain
 *   OAuth; the error goes to that registered URI. A pushed request was checked when it was pushed.
 */
import { decodeJwt } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { acrClaimRequests, isKnownAcr } from './acr.ts';
import { unknownScopes } from './scope-names.ts';

/** The longest value a parameter may have; a signed request object or an ID token may be longer. */
export const PARAMETER_MAX_LENGTH = 2048;
const LONGER: Record<string, number> = { request: 16384, id_token_hint: 8192, claims: 8192 };

/** The first parameter over its length cap, if any (arrays: each value). */
export function overlongParameter(params: Record<string, unknown>): string | undefined {
  for (const [name, value] of Object.entries(params)) {
    const max = (Object.hasOwn(LONGER, name) ? LONGER[name] : undefined) ?? PARAMETER_MAX_LENGTH;
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && v.length > max)) return name;
  }
  return undefined;
}

/**
 * The scope as the relying party sent it. By the time these checks run node-oidc-provider has
 * already reduced `params.scope` to the scopes it knows, so it is read from the request itself
 * (query, form body, or the already verified request object); none with a PAR's request_uri.
 */
function requestedScope(ctx: KoaContextWithOIDC): string | undefined {
  const source = sentParams(ctx);
  if (typeof source?.request === 'string') {
    try {
      const scope = decodeJwt(source.request).scope;
      return typeof scope === 'string' ? scope : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof source?.scope === 'string' ? source.scope : undefined;
}

async function checkScopesKnown(ctx: KoaContextWithOIDC): Promise<void> {
  const unknown = unknownScopes(requestedScope(ctx));
  if (unknown.length) throw new errors.InvalidScope('requested scope is not supported', unknown[0]!);
}

async function checkParameterLengths(ctx: KoaContextWithOIDC): Promise<void> {
  const name = overlongParameter(ctx.oidc.params as Record<string, unknown>);
  if (name) throw new errors.InvalidRequest(`${name} is too long`);
}

/** The values of an `acr` claim requested as essential (id_token or userinfo) when none of them is one vkhod knows. */
export function unsupportedEssentialAcr(claims: unknown): string[] | undefined {
  const unmet = acrClaimRequests(claims).find(
    ({ essential, values }) => essential && values.length && !values.some((v) => typeof v === 'string' && isKnownAcr(v)),
  );
  return unmet?.values.map(String);
}

async function checkEssentialAcrSupported(ctx: KoaContextWithOIDC): Promise<void> {
  const unsupported = unsupportedEssentialAcr((ctx.oidc.params as Record<string, unknown>).claims);
  if (unsupported)
    throw new errors.UnmetAuthenticationRequirements(
      `none of the essential acr values requested is supported: ${unsupported.join(' ').slice(0, 200)}`,
    );
}

/**
 * The authorization request's parameters as sent: the query, or the form body of a POST or a PAR.
 * None with a `request_uri`: only the pushed request counts (RFC 9126 §4: parameters sent beside it
 * are ignored), and it was checked when it was pushed.
 */
function sentParams(ctx: KoaContextWithOIDC): Record<string, unknown> | undefined {
  const sent = (ctx.method === 'POST' ? ctx.oidc.body : ctx.query) as Record<string, unknown> | undefined;
  return sent?.request_uri === undefined ? sent : undefined;
}

async function checkRedirectUriSent(ctx: KoaContextWithOIDC): Promise<void> {
  if (ctx.oidc.route !== 'authorization' && ctx.oidc.route !== 'pushed_authorization_request') return;
  const sent = sentParams(ctx);
  if (!sent || sent.redirect_uri !== undefined) return;
  if ((requestedScope(ctx) ?? '').split(' ').includes('openid'))
    throw new errors.InvalidRequest("missing required parameter 'redirect_uri' (OpenID Connect Core 3.1.2.1)");
}

/** node-oidc-provider's `extraParams`: validators keyed by a parameter they run for (always run). */
export const authorizationRequestChecks = {
  scope: async (ctx: KoaContextWithOIDC) => {
    await checkParameterLengths(ctx);
    await checkScopesKnown(ctx);
    await checkEssentialAcrSupported(ctx);
    await checkRedirectUriSent(ctx);
  },
};
