/**
 * What an ESIA-profile client is once read (EsiaClient), the scopes the profile knows, and the
 * internal registration each such client gets at node-oidc-provider. Apart from clients.ts, which
 * reads the clients' certificates with pkijs/asn1js: the routes and the services need these at
 * start, the PKI only when some client is registered for the profile.
 */
import type * as pkijs from 'pkijs';
import type { ClientMetadata, EsiaClientSettings } from '../../config/clients.ts';

/** ESIA's person scopes vkhod can answer (each is also a vkhod scope of the same meaning). */
export const ESIA_SCOPES = [
  'openid',
  'fullname',
  'birthdate',
  'gender',
  'snils',
  'inn',
  'id_doc',
  'birthplace',
  'email',
  'mobile',
  'contacts',
  'addresses',
] as const;
const KNOWN = new Set<string>(ESIA_SCOPES);

/** Where node-oidc-provider sends the browser back after the sign-in inside an ESIA authorization. */
export const INTERNAL_CALLBACK_PATH = '/aas/oauth2/internal/callback';

export interface EsiaClient {
  clientId: string;
  name?: string;
  certificate: pkijs.Certificate;
  certificateDer: Buffer;
  redirectUris: string[];
  logoutRedirectUris: string[];
  scopes: ReadonlySet<string>;
  tokenAlg: EsiaClientSettings['token_signing_alg'];
}

/** The scopes of a scope string that ESIA's profile does not know. */
export function unknownEsiaScopes(scope: string): string[] {
  return scope.split(/\s+/).filter((s) => s && !KNOWN.has(s));
}

/**
 * What node-oidc-provider knows of an ESIA client: the same client_id (consent and the cabinet's
 * "connected services" name it), vkhod's internal callback as its only redirect URI, a secret no
 * one holds (its OIDC token endpoint is closed to it: tokens come from /aas/oauth2/te only) and
 * the ESIA scopes with `openid`.
 */
export function esiaProviderClient(client: ClientMetadata, issuer: string, internalSecret: string): ClientMetadata {
  const scopes = new Set(['openid', ...client.esia!.scope.split(/\s+/).filter(Boolean)]);
  return {
    client_id: client.client_id,
    ...(client.client_name ? { client_name: client.client_name } : {}),
    client_secret: internalSecret,
    redirect_uris: [`${issuer}${INTERNAL_CALLBACK_PATH}`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: [...scopes].join(' '),
    vkhod_pkce_optional: true,
  };
}
