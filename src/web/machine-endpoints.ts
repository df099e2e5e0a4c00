/**
 * The endpoints that a relying party's (or a device's) code calls, never a person's browser. Their
 * every answer is JSON — also the errors vkhod's own middleware gives before the endpoint is
 * reached (a compressed body, a wrong method, a body over the limit, an address over its limit):
 * such a client sends `Accept: *\/*` or nothing, and an HTML error page is not something its OAuth
 * library can read (RFC 6749 §5.2).
 */

/** node-oidc-provider's endpoints that relying parties call directly (routed straight to it). */
export const PROVIDER_API_PATHS: ReadonlySet<string> = new Set([
  '/token',
  '/token/introspection',
  '/token/revocation',
  '/me',
  '/jwks',
  '/request',
  '/.well-known/openid-configuration',
]);

/** Of those, the ones that take only POST (RFC 6749 §3.2, RFC 7662, RFC 7009, RFC 9126). */
export const POST_ONLY_PATHS: ReadonlySet<string> = new Set(['/token', '/token/introspection', '/token/revocation', '/request']);

/** The rest: the device authorization request (RFC 8628 §3.1) and the ESIA profile's token endpoints. */
const OTHER_MACHINE_PATHS = new Set(['/device/auth', '/aas/oauth2/te', '/aas/oauth2/v3/te']);

/** ESIA's person data REST API (src/esia/person.ts). */
const MACHINE_PREFIXES = ['/rs/prns/'];

/** The path is one that only code calls: every answer there is JSON. */
export function isMachineEndpoint(path: string): boolean {
  return PROVIDER_API_PATHS.has(path) || OTHER_MACHINE_PATHS.has(path) || MACHINE_PREFIXES.some((prefix) => path.startsWith(prefix));
}
