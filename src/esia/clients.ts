/**
 * Relying parties registered for the ESIA profile: the `esia` block of a client definition
 * (config/clients.ts) read once at start — the certificate that signs its requests, its redirect
 * URIs, its scopes, how its tokens are signed — and the internal registration each one also gets
 * at node-oidc-provider, through which the citizen signs in on vkhod's own pages.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
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

export function parseCertificatePem(pem: string): { certificate: pkijs.Certificate; der: Buffer } {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (!body) throw new Error('not a PEM certificate');
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const asn = asn1js.fromBER(der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer);
  if (asn.offset === -1) throw new Error('the certificate cannot be read');
  return { certificate: new pkijs.Certificate({ schema: asn.result }), der };
}

/** The scopes of a scope string that ESIA's profile does not know. */
export function unknownEsiaScopes(scope: string): string[] {
  return scope.split(/\s+/).filter((s) => s && !KNOWN.has(s));
}

/** The ESIA clients among the registrations, by client_id (mnemonic). Throws a clear message for a bad one. */
export function readEsiaClients(clients: ClientMetadata[]): Map<string, EsiaClient> {
  const out = new Map<string, EsiaClient>();
  for (const client of clients) {
    const esia = client.esia;
    if (!esia) continue;
    const unknown = unknownEsiaScopes(esia.scope);
    if (unknown.length)
      throw new Error(`client ${client.client_id}: esia.scope: unknown ${unknown.join(', ')} (known: ${ESIA_SCOPES.join(' ')})`);
    let parsed;
    try {
      parsed = parseCertificatePem(esia.certificate);
    } catch (err) {
      throw new Error(`client ${client.client_id}: esia.certificate: ${(err as Error).message}`);
    }
    out.set(client.client_id, {
      clientId: client.client_id,
      name: client.client_name,
      certificate: parsed.certificate,
      certificateDer: parsed.der,
      redirectUris: esia.redirect_uris,
      logoutRedirectUris: esia.logout_redirect_uris ?? [],
      scopes: new Set(esia.scope.split(/\s+/).filter(Boolean)),
      tokenAlg: esia.token_signing_alg,
    });
  }
  return out;
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
